import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import type { BridgeName, CreateOptions } from './options.js'
import { ScaffoldError } from './options.js'

/** The versions a new project starts with, besides the @conduit packages (peers and tools). */
export const COMPANION_VERSIONS = {
  zod: '^4.1.0',
  '@opentelemetry/api': '^1.9.0',
  typescript: '~5.9.3',
  tsx: '^4.20.0',
  vitest: '^4.0.8',
  '@types/node': '^22.10.0',
} as const

/**
 * What a Dapr project's tests add: the emulator from @conduit/dapr/testing backs its pub/sub
 * with NATS JetStream, through these optional peers of @conduit/dapr.
 */
export const DAPR_TEST_VERSIONS = {
  '@nats-io/jetstream': '^3.4.0',
  '@nats-io/transport-node': '^3.4.0',
} as const

/** This CLI's own version: the default for the @conduit packages it writes into a project. */
export function cliVersion(): string {
  // ../../package.json from src/scaffold (workspace) and from dist/scaffold (published) alike
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))
  return manifest.version as string
}

/** The @conduit packages a project with these choices imports. */
export function conduitPackagesFor(options: Pick<CreateOptions, 'bridge' | 'gateway' | 'lambda'>): string[] {
  const packages = ['@conduit/core']
  if (options.bridge !== 'memory') packages.push(`@conduit/${options.bridge satisfies BridgeName}`)
  if (options.gateway) packages.push('@conduit/http')
  if (options.lambda) packages.push('@conduit/aws-lambda')
  return packages
}

/**
 * The dependency spec of each @conduit package: `^<cli version>` by default, the given version
 * or range, or with `file:<folder>` the path of that package's tarball in the folder
 * (`conduit-core-0.1.0.tgz`, as `pnpm pack` names it). A tarball's own @conduit dependencies
 * are plain versions that npm would take from the registry, so with `file:` the project names
 * them too, read from each tarball's package.json.
 */
export function conduitDependencies(packages: string[], conduitVersion: string | undefined, cwd: string) {
  if (!conduitVersion?.startsWith('file:')) {
    const spec = conduitVersion ?? `^${cliVersion()}`
    return Object.fromEntries(packages.map((name) => [name, spec]))
  }
  const folder = resolve(cwd, conduitVersion.slice('file:'.length))
  if (!existsSync(folder)) throw new ScaffoldError(`--conduit-version ${conduitVersion}: no folder ${folder}`)
  const files = readdirSync(folder)
  const tarballOf = (name: string) => {
    const stem = `${name.slice(1).replace('/', '-')}-`
    const tarball = files.find((file) => file.startsWith(stem) && /^\d.*\.tgz$/.test(file.slice(stem.length)))
    if (!tarball)
      throw new ScaffoldError(`--conduit-version ${conduitVersion}: no ${stem}<version>.tgz in ${folder}`)
    return resolve(folder, tarball)
  }
  const specs = new Map<string, string>()
  const pending = [...packages]
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    if (specs.has(name)) continue
    const tarball = tarballOf(name)
    specs.set(name, `file:${tarball}`)
    pending.push(
      ...Object.keys(tarballManifest(tarball).dependencies ?? {}).filter((dependency) =>
        dependency.startsWith('@conduit/'),
      ),
    )
  }
  return Object.fromEntries(specs)
}

/** package/package.json of a tarball, through the system's tar (file: installs are for testing). */
function tarballManifest(tarball: string): { dependencies?: Record<string, string> } {
  return JSON.parse(execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' }))
}

/** The new project's package.json (built as data: its dependencies depend on every choice). */
export function projectManifest(projectName: string, options: CreateOptions, cwd: string) {
  const conduit = conduitDependencies(conduitPackagesFor(options), options.conduitVersion, cwd)
  const { zod, '@opentelemetry/api': otel, ...tools } = COMPANION_VERSIONS
  return {
    name: projectName,
    version: '0.1.0',
    private: true,
    type: 'module',
    engines: { node: '^20.19.0 || >=22.12.0' },
    scripts: {
      start: 'tsx src/main.ts',
      test: 'vitest run',
      typecheck: 'tsc -p tsconfig.json',
    },
    dependencies: sortKeys({ ...conduit, zod, '@opentelemetry/api': otel }),
    devDependencies: sortKeys({ ...tools, ...(options.bridge === 'dapr' ? DAPR_TEST_VERSIONS : {}) }),
  }
}

function sortKeys(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : 1)))
}

/** create-vite's rule: a folder name made into a valid npm package name. */
export function packageNameFrom(folderName: string): string {
  return (
    folderName
      .trim()
      .toLowerCase()
      .replace(/\s+/g, '-')
      .replace(/^[._]/, '')
      .replace(/[^a-z\d\-~]+/g, '-') || 'conduit-app'
  )
}
