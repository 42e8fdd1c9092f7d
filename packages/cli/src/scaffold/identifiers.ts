import { defineService, type HttpMethod, isConduitError } from '@conduit/core'
import { z } from 'zod'
import { ScaffoldError } from './options.js'

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const satisfies readonly HttpMethod[]

// Words a generated `export const <name>` may not use. Conduit names allow them (`delete` is a
// fine command name), so the identifier gets a suffix instead.
const RESERVED = new Set(
  'await break case catch class const continue debugger default delete do else enum export extends false finally for function if implements import in instanceof interface let new null package private protected public return static super switch this throw true try typeof var void while with yield'.split(
    ' ',
  ),
)

/** `send-welcome_mail` → `sendWelcomeMail`: Conduit names are letters, digits, `_` and `-`. */
export function camelCase(name: string): string {
  return name
    .split(/[-_]+/)
    .filter(Boolean)
    .map((part, index) =>
      index === 0 ? part[0]!.toLowerCase() + part.slice(1) : part[0]!.toUpperCase() + part.slice(1),
    )
    .join('')
}

/** The exported const for a command or subscription definition (`delete` → `deleteCommand`). */
export function definitionIdentifier(name: string, kind: 'command' | 'subscription'): string {
  const identifier = camelCase(name)
  return RESERVED.has(identifier)
    ? `${identifier}${kind === 'command' ? 'Command' : 'Subscription'}`
    : identifier
}

/** `user` v`1` → `userV1`, as in Conduit's running example. */
export function serviceIdentifier(name: string, version: string): string {
  return camelCase(`${name}-v${version}`)
}

/** Runs one of the runtime's own checks; its DefinitionError becomes a refusal. */
function refuseInvalid(check: () => void): void {
  try {
    check()
  } catch (error) {
    if (isConduitError(error)) throw new ScaffoldError(error.message)
    throw error
  }
}

// The checks below declare the thing on a throwaway service: the runtime then applies exactly
// the rules `defineService`, `.command()` and `.subscription()` apply when the project loads.

export function checkService(name: string, version: string): void {
  refuseInvalid(() => defineService({ name, version }))
}

export interface HttpRoute {
  method: HttpMethod
  path: string
}

/** `POST:/orders/:orderId` → `{ method: 'POST', path: '/orders/:orderId' }`. */
export function parseHttpRoute(value: string): HttpRoute {
  const separator = value.indexOf(':')
  const method = value.slice(0, separator).toUpperCase()
  const path = value.slice(separator + 1)
  if (separator < 0 || !HTTP_METHODS.includes(method as HttpMethod)) {
    throw new ScaffoldError(
      `Invalid --http ${JSON.stringify(value)}: use METHOD:/path with METHOD one of ${HTTP_METHODS.join(', ')}, e.g. POST:/orders`,
    )
  }
  if (/[\s?#]/.test(path)) {
    throw new ScaffoldError(`Invalid --http path ${JSON.stringify(path)}: no spaces, query or fragment`)
  }
  return { method: method as HttpMethod, path }
}

export function checkCommand(service: string, name: string, http: HttpRoute | undefined): void {
  const probe = throwaway(service)
  refuseInvalid(() =>
    probe.command(name, { input: z.unknown(), output: z.unknown(), ...(http ? { http } : {}) }),
  )
}

export function checkSubscription(service: string, name: string, event: string): void {
  const probe = throwaway(service)
  refuseInvalid(() => probe.subscription(name, { event }))
}

/** A service of that name (so messages name it), holding nothing: a valid name is checked first. */
function throwaway(service: string) {
  checkService(service, '1')
  return defineService({ name: service, version: '1' })
}

/** The `:name` parameters of a gateway path, in order. */
export function pathParameters(path: string): string[] {
  return [...path.matchAll(/:([A-Za-z_][A-Za-z0-9_]*)/g)].map((match) => match[1]!)
}

/** A JavaScript string literal in single quotes (what the templates write names as). */
export function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`
}
