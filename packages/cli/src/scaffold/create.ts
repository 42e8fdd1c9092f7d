import { existsSync, statSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { basename, relative, resolve } from 'node:path'
import { writeFiles } from './files.js'
import { quote } from './identifiers.js'
import { installDependencies, runCommand } from './install.js'
import { type CreateOptions, printLine, type Reporter, ScaffoldError } from './options.js'
import { packageNameFrom, projectManifest } from './packageJson.js'
import { readServiceEntry, renderProjectRegistry, renderServiceRegistry } from './registry.js'
import { renderFolder } from './templates.js'

const BROKER_VARIABLES = {
  nats: ['NATS_URL', 'nats://127.0.0.1:4222'],
  amqp: ['AMQP_URL', 'amqp://guest:guest@127.0.0.1:5672'],
  mqtt: ['MQTT_URL', 'mqtt://127.0.0.1:1883'],
} as const

export interface CreatedProject {
  /** absolute path of the new project */
  directory: string
  /** its files, relative to `directory`, sorted */
  files: string[]
}

/**
 * `conduit create`: writes a project (package.json, tsconfig, main.ts on the chosen bridge, the
 * example user service with its tests, optional gateway and Lambda entry points, a README) into
 * a new or empty folder, then installs its dependencies unless told not to.
 */
export async function createProject(
  options: CreateOptions,
  report: Reporter = printLine,
): Promise<CreatedProject> {
  const cwd = options.cwd ?? process.cwd()
  const directory = resolve(cwd, options.directory)
  await assertEmptyFolder(directory, options.directory)
  const projectName = packageNameFrom(basename(directory))

  const broker =
    options.bridge in BROKER_VARIABLES
      ? BROKER_VARIABLES[options.bridge as keyof typeof BROKER_VARIABLES]
      : undefined
  const data = {
    projectName,
    bridge: options.bridge,
    gateway: options.gateway,
    lambda: options.lambda,
    // the Dapr bridge's app server takes APP_PORT 3000: the gateway moves aside
    httpPort: options.bridge === 'dapr' ? 8080 : 3000,
    brokerVariable: broker?.[0],
    brokerDefault: broker?.[1],
    quote,
    run: (script: string) => runCommand(options.packageManager, script),
  }
  const files = await renderFolder('project/base', data)
  if (options.gateway)
    for (const [path, text] of await renderFolder('project/gateway', data)) files.set(path, text)
  if (options.lambda)
    for (const [path, text] of await renderFolder('project/lambda', data)) files.set(path, text)
  // the tests' sidecar: the emulator from @conduit/dapr/testing, or a real one under `dapr run`
  if (options.bridge === 'dapr')
    for (const [path, text] of await renderFolder('project/dapr', data)) files.set(path, text)
  files.set('package.json', `${JSON.stringify(projectManifest(projectName, options, cwd), null, 2)}\n`)
  await writeFiles(directory, files)

  // The registries come from the folders just written, by the same code `conduit add` runs.
  const user = await readServiceEntry(directory, 'user')
  const registries = new Map([
    ...(await renderServiceRegistry(directory, user)),
    ...(await renderProjectRegistry(directory)),
  ])
  await writeFiles(directory, registries)

  const shown = relative(cwd, directory) || '.'
  report(
    `Created ${projectName} in ${shown} (${options.bridge} bridge${options.gateway ? ', HTTP gateway' : ''}${options.lambda ? ', Lambda entry points' : ''})`,
  )
  if (options.install) {
    report(`Installing dependencies with ${options.packageManager}...`)
    await installDependencies(directory, options.packageManager)
  }
  report('Next:')
  report(`  cd ${shown}`)
  if (!options.install) report(`  ${options.packageManager} install`)
  report(`  ${runCommand(options.packageManager, 'test')}`)
  report(`  ${runCommand(options.packageManager, 'start')}`)
  return {
    directory,
    files: [...files.keys(), ...registries.keys()].map((path) => path.split('\\').join('/')).sort(),
  }
}

async function assertEmptyFolder(directory: string, given: string): Promise<void> {
  if (!existsSync(directory)) return
  if (!statSync(directory).isDirectory())
    throw new ScaffoldError(`${given} exists and is not a folder; nothing was written`)
  // like create-vite: a folder holding only .git counts as empty
  const entries = (await readdir(directory)).filter((entry) => entry !== '.git')
  if (entries.length > 0) {
    throw new ScaffoldError(
      `${given} is not empty (${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}); choose a new folder or empty it. Nothing was written`,
    )
  }
}
