import { existsSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { definitionIdentifier } from './identifiers.js'
import { ScaffoldError } from './options.js'
import { renderTemplate } from './templates.js'

/**
 * The layout `conduit add` keeps (docs/cli.md, "create and add"):
 *
 *   src/services/index.ts            generated: every service's implementation
 *   src/services/definitions.ts      generated: every service's definition (no handlers)
 *   src/services/<service>/definition.ts      `export const <id> = defineService(...)`: yours
 *   src/services/<service>/contract.ts        generated: re-exports every definition below
 *   src/services/<service>/service.ts         generated: createService(<id>, every handler)
 *   src/services/<service>/commands/<name>.{definition,handler,test}.ts
 *   src/services/<service>/subscriptions/<name>.{definition,handler,test}.ts
 *
 * The generated files are rebuilt from the folders' contents each time, so they always list
 * exactly what is there, and no user-written file is ever parsed for more than its one
 * `defineService` export.
 */
export const SERVICES_FOLDER = join('src', 'services')

export interface ServiceEntry {
  /** the folder name, which is the service name */
  name: string
  /** the const `definition.ts` exports, e.g. `userV1` */
  identifier: string
}

export interface MemberEntry {
  name: string
  identifier: string
}

const DEFINE_SERVICE_EXPORT = /export const ([A-Za-z_$][\w$]*)\s*=\s*defineService\s*\(/

/** Reads the service identifier from `<service>/definition.ts`. */
export async function readServiceEntry(projectRoot: string, service: string): Promise<ServiceEntry> {
  const file = join(projectRoot, SERVICES_FOLDER, service, 'definition.ts')
  if (!existsSync(file)) {
    throw new ScaffoldError(
      `No service "${service}": ${join(SERVICES_FOLDER, service, 'definition.ts')} does not exist (create it with: conduit add service ${service})`,
    )
  }
  const identifier = DEFINE_SERVICE_EXPORT.exec(await readFile(file, 'utf8'))?.[1]
  if (!identifier) {
    throw new ScaffoldError(
      `${join(SERVICES_FOLDER, service, 'definition.ts')} has no \`export const <name> = defineService(...)\`; conduit add needs it to wire the service`,
    )
  }
  return { name: service, identifier }
}

/** Every service folder (one with a definition.ts), by name. */
export async function listServices(projectRoot: string): Promise<string[]> {
  const root = join(projectRoot, SERVICES_FOLDER)
  const entries = await readdir(root, { withFileTypes: true })
  return entries
    .filter((entry) => entry.isDirectory() && existsSync(join(root, entry.name, 'definition.ts')))
    .map((entry) => entry.name)
    .sort()
}

/** The commands or subscriptions of a service: one per `<name>.definition.ts`. */
export async function listMembers(
  serviceFolder: string,
  kind: 'command' | 'subscription',
): Promise<MemberEntry[]> {
  const folder = join(serviceFolder, `${kind}s`)
  if (!existsSync(folder)) return []
  return (await readdir(folder))
    .filter((file) => file.endsWith('.definition.ts'))
    .map((file) => file.slice(0, -'.definition.ts'.length))
    .sort()
    .map((name) => ({ name, identifier: definitionIdentifier(name, kind) }))
}

/** The two generated files of one service, as path (relative to the project) → text. */
export async function renderServiceRegistry(
  projectRoot: string,
  service: ServiceEntry,
  extra: { command?: MemberEntry; subscription?: MemberEntry } = {},
): Promise<Map<string, string>> {
  const folder = join(projectRoot, SERVICES_FOLDER, service.name)
  const commands = withExtra(await listMembers(folder, 'command'), extra.command)
  const subscriptions = withExtra(await listMembers(folder, 'subscription'), extra.subscription)
  const data = { service, commands, subscriptions }
  const base = join(SERVICES_FOLDER, service.name)
  return new Map([
    [join(base, 'contract.ts'), await renderTemplate('registry/contract.ts.eta', data)],
    [join(base, 'service.ts'), await renderTemplate('registry/service.ts.eta', data)],
  ])
}

/** The two generated project-level files listing every service. */
export async function renderProjectRegistry(
  projectRoot: string,
  extra?: ServiceEntry,
): Promise<Map<string, string>> {
  const services = await Promise.all(
    (await listServices(projectRoot)).map((name) => readServiceEntry(projectRoot, name)),
  )
  const data = { services: withExtra(services, extra) }
  return new Map([
    [join(SERVICES_FOLDER, 'index.ts'), await renderTemplate('registry/index.ts.eta', data)],
    [join(SERVICES_FOLDER, 'definitions.ts'), await renderTemplate('registry/definitions.ts.eta', data)],
  ])
}

/** `list` plus the entry being added (not on disk yet), sorted by name. */
function withExtra<T extends { name: string }>(list: T[], extra: T | undefined): T[] {
  return (extra ? [...list, extra] : list).sort((a, b) => (a.name < b.name ? -1 : 1))
}
