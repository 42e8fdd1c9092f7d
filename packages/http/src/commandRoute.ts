import type { EventBridge, Logger } from '@conduit/core'
import type { Context, Handler } from 'hono'
import { routePath } from 'hono/route'
import type { Principal } from './auth.js'
import { CORRELATION_HEADER, correlationIdOf } from './correlation.js'
import { toErrorReply } from './errorResponses.js'
import { type HeaderReader, headerReader } from './requestHeaders.js'
import { readParameter, readPayload } from './requestInput.js'
import type { ObservedRequest, RequestTelemetry } from './requestTelemetry.js'
import type { GatewayRoute } from './routes.js'

export interface CommandRouteDependencies {
  bridge: EventBridge
  logger: Logger
  bodyLimit: number
  /** used when the command sets no timeout */
  timeout: number | undefined
  forwardHeaders: readonly string[] | undefined
  authenticate: (c: Context, route: GatewayRoute) => Promise<Principal | undefined>
  telemetry: RequestTelemetry
}

/**
 * Serves one command. This is the hot path, shaped by profiling: no middleware, headers read from
 * the Node request, and responses built with plain-object headers, which keeps @hono/node-server
 * on its fast path. Failures are answered here too, with the correlation id the call used, and
 * every request, failed or not, is observed here (span, duration, access log line).
 */
export function commandHandler(route: GatewayRoute, dependencies: CommandRouteDependencies): Handler {
  const { bridge, logger, bodyLimit, forwardHeaders, authenticate, telemetry } = dependencies
  const timeout = route.command.timeout ?? dependencies.timeout
  const serve = async (c: Context, header: HeaderReader, correlationId: string, request: ObservedRequest) => {
    const principal = route.isPublic ? undefined : await authenticate(c, route)
    const payload = await readPayload(c.req.raw, header, route, bodyLimit)
    const output = await bridge.invokeAddress(route.address, payload, {
      parameter: readParameter(c, route),
      correlationId,
      principalId: principal?.principalId,
      tenantId: principal?.tenantId,
      timeout,
      // The HTTP span's own context, passed explicitly: the command's spans hang under it
      // whether or not a context manager carries the active span into the bridge.
      traceparent: request.traceparent,
      tracestate: request.tracestate,
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
  }
  return async (c) => {
    const header = headerReader(c)
    const correlationId = correlationIdOf(header)
    // The matched template as mounted (a parent app may add a base path to route.path).
    const request = telemetry.begin(c, routePath(c), correlationId, header)
    let failure: unknown
    const response = await request.run(() =>
      serve(c, header, correlationId, request).catch((error: unknown) => {
        failure = error
        return errorResponse(error, correlationId, logger)
      }),
    )
    request.end(response.status, failure)
    return response
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
