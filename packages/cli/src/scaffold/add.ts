import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { writeFiles } from './files.js'
import {
  checkCommand,
  checkService,
  checkSubscription,
  definitionIdentifier,
  type HttpRoute,
  pathParameters,
  quote,
  serviceIdentifier,
} from './identifiers.js'
import { printLine, type Reporter, ScaffoldError } from './options.js'
import {
  listMembers,
  listServices,
  type MemberEntry,
  readServiceEntry,
  renderProjectRegistry,
  renderServiceRegistry,
  SERVICES_FOLDER,
  type ServiceEntry,
} from './registry.js'
import { renderTemplate } from './templates.js'

export interface AddServiceOptions {
  name: string
  /** default '1' */
  version?: string
}

export interface AddCommandOptions {
  service: string
  name: string
  http?: HttpRoute
}

export interface AddSubscriptionOptions {
  service: string
  name: string
  /** an event name or pattern (`*` one segment, final `#` one or more) */
  event: string
  durable?: boolean
}

/** `conduit add service`: src/services/<name>/definition.ts, wired into the project's registries. */
export async function addService(
  projectRoot: string,
  options: AddServiceOptions,
  report: Reporter = printLine,
) {
  const version = options.version ?? '1'
  checkService(options.name, version)
  await assertProject(projectRoot)
  const existing = await listServices(projectRoot)
  if (existing.includes(options.name) || existsSync(join(projectRoot, SERVICES_FOLDER, options.name))) {
    throw new ScaffoldError(
      `Service "${options.name}" already exists in ${join(SERVICES_FOLDER, options.name)}; nothing was changed`,
    )
  }
  const service: ServiceEntry = { name: options.name, identifier: serviceIdentifier(options.name, version) }
  const taken = await Promise.all(existing.map((name) => readServiceEntry(projectRoot, name)))
  const clash = taken.find((other) => other.identifier === service.identifier)
  if (clash) {
    throw new ScaffoldError(
      `Service "${options.name}" v${version} would be exported as ${service.identifier}, like service "${clash.name}"; nothing was changed`,
    )
  }
  const folder = join(SERVICES_FOLDER, service.name)
  const files = new Map([
    [
      join(folder, 'definition.ts'),
      await renderTemplate('add/service/definition.ts.eta', { ...service, version, quote }),
    ],
    ...(await renderServiceRegistry(projectRoot, service)),
    ...(await renderProjectRegistry(projectRoot, service)),
  ])
  const written = await writeFiles(projectRoot, files, generatedIn(files, [folder, SERVICES_FOLDER]))
  report(`Added service ${service.name} v${version} (${service.identifier}) in ${folder}`)
  return written
}

/** `conduit add command`: its definition, handler and test, wired into the service. */
export async function addCommand(
  projectRoot: string,
  options: AddCommandOptions,
  report: Reporter = printLine,
) {
  checkCommand(options.service, options.name, options.http)
  const { service, member } = await newMember(projectRoot, options.service, options.name, 'command')
  const parameters = options.http ? pathParameters(options.http.path) : []
  const bodyless = options.http?.method === 'GET' || options.http?.method === 'DELETE'
  const data = { ...member, service, http: options.http, parameters, bodyless, quote }
  return addMember(projectRoot, service, member, 'command', data, report)
}

/** `conduit add subscription`: its definition, handler and test, wired into the service. */
export async function addSubscription(
  projectRoot: string,
  options: AddSubscriptionOptions,
  report: Reporter = printLine,
) {
  checkSubscription(options.service, options.name, options.event)
  const { service, member } = await newMember(projectRoot, options.service, options.name, 'subscription')
  const data = { ...member, service, event: options.event, durable: options.durable ?? false, quote }
  return addMember(projectRoot, service, member, 'subscription', data, report)
}

/** Refuses a name the service already declares (commands and subscriptions share one namespace). */
async function newMember(
  projectRoot: string,
  serviceName: string,
  name: string,
  kind: 'command' | 'subscription',
) {
  await assertProject(projectRoot)
  const service = await readServiceEntry(projectRoot, serviceName)
  const folder = join(projectRoot, SERVICES_FOLDER, serviceName)
  const commands = await listMembers(folder, 'command')
  const members = [...commands, ...(await listMembers(folder, 'subscription'))]
  const member: MemberEntry = { name, identifier: definitionIdentifier(name, kind) }
  if (members.some((other) => other.name === name)) {
    const existingKind = commands.some((other) => other.name === name) ? 'command' : 'subscription'
    throw new ScaffoldError(
      `Service "${serviceName}" already declares "${name}" (a ${existingKind}); nothing was changed`,
    )
  }
  const clash = members.find(
    (other) => other.identifier === member.identifier || `${other.identifier}Handler` === member.identifier,
  )
  if (
    clash ||
    member.identifier === service.identifier ||
    member.identifier === `${service.identifier}Service`
  ) {
    throw new ScaffoldError(
      `"${name}" would be exported as ${member.identifier}, which ${clash ? `"${clash.name}"` : `service "${serviceName}"`} already uses; pick another name. Nothing was changed`,
    )
  }
  return { service, member }
}

async function addMember(
  projectRoot: string,
  service: ServiceEntry,
  member: MemberEntry,
  kind: 'command' | 'subscription',
  data: object,
  report: Reporter,
) {
  const serviceFolder = join(SERVICES_FOLDER, service.name)
  const folder = join(serviceFolder, `${kind}s`)
  const files = new Map([
    [
      join(folder, `${member.name}.definition.ts`),
      await renderTemplate(`add/${kind}/definition.ts.eta`, data),
    ],
    [join(folder, `${member.name}.handler.ts`), await renderTemplate(`add/${kind}/handler.ts.eta`, data)],
    [join(folder, `${member.name}.test.ts`), await renderTemplate(`add/${kind}/test.ts.eta`, data)],
    ...(await renderServiceRegistry(projectRoot, service, { [kind]: member })),
  ])
  const written = await writeFiles(projectRoot, files, generatedIn(files, [serviceFolder]))
  report(`Added ${kind} ${service.name}.${member.name} in ${folder}`)
  return written
}

/** The registry files among `files`: those directly in one of `folders` (and only they are rewritten). */
function generatedIn(files: ReadonlyMap<string, string>, folders: string[]): Set<string> {
  const registryNames = ['contract.ts', 'service.ts', 'index.ts', 'definitions.ts']
  return new Set(
    [...files.keys()].filter((path) =>
      folders.some((folder) => registryNames.some((name) => path === join(folder, name))),
    ),
  )
}

async function assertProject(projectRoot: string): Promise<void> {
  if (!existsSync(join(projectRoot, SERVICES_FOLDER))) {
    throw new ScaffoldError(
      `No ${SERVICES_FOLDER} folder in ${projectRoot}: run conduit add in a project made by conduit create (or pass --dir)`,
    )
  }
}
