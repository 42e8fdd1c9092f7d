import type { AnyCommandDefinition, CommandAddress, HttpMethod, ServiceDefinition } from '@conduit/core'
import { DefinitionError } from '@conduit/core'

/** Everything the gateway needs to serve and document one command, computed once at creation. */
export interface GatewayRoute {
  readonly address: CommandAddress
  readonly command: AnyCommandDefinition
  readonly method: HttpMethod
  /** Hono path, `:name` parameters, e.g. `/api/v1/user/users/:userId` */
  readonly path: string
  /** the same path in OpenAPI form, e.g. `/api/v1/user/users/{userId}` */
  readonly openApiPath: string
  readonly pathParameters: readonly string[]
  readonly isPublic: boolean
  readonly successStatus: 200 | 201 | 202 | 204
  /** what a request without a body sends as payload: `undefined` if the input accepts it, else `{}` */
  readonly emptyPayload: undefined | Record<string, never>
  /** GET never carries a body; every other method may */
  readonly readsBody: boolean
  readonly operationId: string
  readonly tags: readonly string[]
}

/** Builds a command's public path; the default is `${prefix}/v${version}/${service}${http.path}`. */
export type RoutePathBuilder = (command: AnyCommandDefinition, prefix: string) => string

export const defaultRoutePath: RoutePathBuilder = (command, prefix) =>
  `${prefix}/v${command.service.version}/${command.service.name}${command.http!.path}`

const PATH_PARAMETER = /:([A-Za-z_][A-Za-z0-9_]*)/g
const PATH_SHAPE = /^(\/(:[A-Za-z_][A-Za-z0-9_]*|[A-Za-z0-9._~-]+))+$/

export interface RouteTableOptions {
  prefix: string
  publicByDefault: boolean
  routePath: RoutePathBuilder
}

/**
 * Reads the HTTP bindings of every command. Only definitions are used, never handlers, so the
 * gateway can run in front of services that live in other processes.
 */
export function buildRouteTable(
  services: readonly ServiceDefinition<any>[],
  options: RouteTableOptions,
): GatewayRoute[] {
  const routes: GatewayRoute[] = []
  const seen = new Map<string, string>()
  for (const service of services) {
    for (const command of service.commands) {
      if (!command.http) continue
      const route = describeRoute(command, options)
      // `:a` and `:b` in the same position are the same route to the router.
      const shapeKey = `${route.method} ${route.path.replace(PATH_PARAMETER, ':')}`
      const other = seen.get(shapeKey)
      if (other) {
        throw new DefinitionError(
          `${subjectOf(command)} and ${other} both bind ${route.method} ${route.path}`,
        )
      }
      seen.set(shapeKey, subjectOf(command))
      routes.push(route)
    }
  }
  return routes
}

function describeRoute(command: AnyCommandDefinition, options: RouteTableOptions): GatewayRoute {
  const http = command.http!
  const subject = subjectOf(command)
  const path = options.routePath(command, options.prefix)
  if (!PATH_SHAPE.test(path)) {
    throw new DefinitionError(`${subject}: HTTP path ${JSON.stringify(path)} has an invalid segment`)
  }
  const pathParameters = [...path.matchAll(PATH_PARAMETER)].map((match) => match[1]!)
  if (new Set(pathParameters).size !== pathParameters.length) {
    throw new DefinitionError(`${subject}: HTTP path ${path} repeats a parameter`)
  }
  const emptyPayload = acceptsUndefined(command) ? undefined : {}
  if (http.method === 'GET' && !acceptsEmptyObject(command, emptyPayload)) {
    throw new DefinitionError(
      `${subject}: a GET request has no body, so its input must accept {} or undefined; put request values in \`parameter\``,
    )
  }
  return {
    address: { service: command.service.name, version: command.service.version, command: command.name },
    command,
    method: http.method,
    path,
    openApiPath: path.replace(PATH_PARAMETER, '{$1}'),
    pathParameters,
    isPublic: http.public ?? options.publicByDefault,
    successStatus: http.successStatus ?? 200,
    emptyPayload: emptyPayload as GatewayRoute['emptyPayload'],
    readsBody: http.method !== 'GET',
    operationId: `${command.service.name}_v${command.service.version}_${command.name}`,
    tags: http.tags ?? [command.service.name],
  }
}

function subjectOf(command: AnyCommandDefinition): string {
  return `${command.service.name}.v${command.service.version}.${command.name}`
}

// A schema with an async refinement cannot be probed synchronously; such inputs get `{}`.
function acceptsUndefined(command: AnyCommandDefinition): boolean {
  try {
    return command.input.safeParse(undefined).success
  } catch {
    return false
  }
}

function acceptsEmptyObject(command: AnyCommandDefinition, emptyPayload: unknown): boolean {
  if (emptyPayload === undefined) return true
  // An input hook may reshape the payload before validation: trust the author then.
  if (command.hooks.transformInput) return true
  try {
    return command.input.safeParse({}).success
  } catch {
    return true
  }
}
