import type { EventBridge, Logger } from '@conduit/core'
import type { Context, Handler } from 'hono'
import type { Principal } from './auth.js'
import { CORRELATION_HEADER, correlationIdOf } from './correlation.js'
import { toErrorReply } from './errorResponses.js'
import { type HeaderReader, headerReader } from './requestHeaders.js'
import { readParameter, readPayload } from './requestInput.js'
import type { GatewayRoute } from './routes.js'

export interface CommandRouteDependencies {
  bridge: EventBridge
  logger: Logger
  bodyLimit: number
  /** used when the command sets no timeout */
  timeout: number | undefined
  forwardHeaders: readonly string[] | undefined
  authenticate: (c: Context, route: GatewayRoute) => Promise<Principal | undefined>
}

/**
 * Serves one command. This is the hot path, shaped by profiling: no middleware, headers read from
 * the Node request, and responses built with plain-object headers, which keeps @hono/node-server
 * on its fast path. Failures are answered here too, with the correlation id the call used.
 */
export function commandHandler(route: GatewayRoute, dependencies: CommandRouteDependencies): Handler {
  const { bridge, logger, bodyLimit, forwardHeaders, authenticate } = dependencies
  const timeout = route.command.timeout ?? dependencies.timeout
  return async (c) => {
    const header = headerReader(c)
    const correlationId = correlationIdOf(header)
    try {
      const principal = route.isPublic ? undefined : await authenticate(c, route)
      const payload = await readPayload(c.req.raw, header, route, bodyLimit)
      const output = await bridge.invokeAddress(route.address, payload, {
        parameter: readParameter(c, route),
        correlationId,
        principalId: principal?.principalId,
        tenantId: principal?.tenantId,
        timeout,
        traceparent: header('traceparent'),
        tracestate: header('tracestate'),
        headers: forwardHeaders && pickHeaders(header, forwardHeaders),
      })
      // Literal header names (CORRELATION_HEADER's value): object literals with computed keys
      // skip V8's fast boilerplate path.
      if (route.successStatus === 204) {
        return new Response(null, { status: 204, headers: { 'x-correlation-id': correlationId } })
      }
      return new Response(JSON.stringify(output ?? null), {
        status: route.successStatus,
        headers: { 'content-type': 'application/json', 'x-correlation-id': correlationId },
      })
    } catch (error) {
      return errorResponse(error, correlationId, logger)
    }
  }
}

/** The JSON error response for anything thrown while serving a request. */
export function errorResponse(error: unknown, correlationId: string, logger: Logger): Response {
  const reply = toErrorReply(error, correlationId, logger)
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    [CORRELATION_HEADER]: correlationId,
  }
  if (reply.status === 401) headers['www-authenticate'] = 'Bearer'
  return new Response(JSON.stringify(reply.body), { status: reply.status, headers })
}

function pickHeaders(header: HeaderReader, names: readonly string[]): Record<string, string> | undefined {
  let picked: Record<string, string> | undefined
  for (const name of names) {
    const value = header(name.toLowerCase())
    if (value !== undefined) {
      picked ??= {}
      picked[name.toLowerCase()] = value
    }
  }
  return picked
}
