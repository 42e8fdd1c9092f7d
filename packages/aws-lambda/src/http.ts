import { BridgeUnavailableError, type Logger, type Service, type ServiceDefinition } from '@conduit/core'
import {
  CORRELATION_HEADER,
  correlationIdOf,
  createGateway,
  type GatewayOptions,
  toErrorReply,
} from '@conduit/http'
import { SpanStatusCode } from '@opentelemetry/api'
import { handle } from 'hono/aws-lambda'
import { InvocationLogger } from './invocationScope.js'
import { type InvocationTrigger, localTraceparent } from './invocationSpan.js'
import { LambdaRuntime, type LambdaRuntimeOptions } from './LambdaRuntime.js'
import type {
  ApiGatewayProxyEvent,
  ApiGatewayProxyEventV2,
  HttpResult,
  LambdaContext,
} from './lambdaTypes.js'

/** API Gateway REST (payload 1.0), HTTP API (payload 2.0) and function URL events. */
export type HttpEvent = ApiGatewayProxyEvent | ApiGatewayProxyEventV2

export interface HttpHandlerOptions
  extends LambdaRuntimeOptions,
    Omit<GatewayOptions, 'services' | 'bridge' | 'sse'> {
  /**
   * Definitions of other services whose HTTP commands this function also routes; they are
   * invoked through the outgoing transport. The function's own service is always served.
   */
  services?: readonly ServiceDefinition<any>[]
  /**
   * HTTP API paths carry the stage name unless the stage is `$default`; remove it so the
   * gateway's routes match. Default true.
   */
  stripStage?: boolean
}

export interface HttpHandler {
  (event: HttpEvent, context?: LambdaContext): Promise<HttpResult>
  readonly runtime: LambdaRuntime
  /** Stops the service and closes its bridge (also done on SIGTERM). */
  close(): Promise<void>
}

/**
 * A Lambda handler serving the service's commands through the HTTP gateway's routes: the same
 * paths, status mapping, auth hook, body limit, OpenAPI document and docs page as
 * `createGateway`, adapted to Lambda events by Hono's `hono/aws-lambda`. The gateway is built
 * now (a configuration error fails the function's init); the service starts on first request.
 */
export function createHttpHandler(
  target: Service | LambdaRuntime,
  options: HttpHandlerOptions = {},
): HttpHandler {
  const runtime = LambdaRuntime.of(target, options)
  const { services = [], stripStage = true, ...gatewayOptions } = options
  const logger = options.logger ? InvocationLogger.wrap(options.logger) : runtime.bridge.logger
  // The gateway loads the OpenAPI generator and the docs page's files on first use only, so a
  // bundle without swagger-ui-dist still starts (its /docs answers 404 with a warning).
  const gateway = createGateway({
    ...gatewayOptions,
    logger,
    services: [runtime.service.definition, ...services.filter((s) => s !== runtime.service.definition)],
    bridge: runtime.bridge,
  })
  const respond = handle(gateway)

  const handler = (event: HttpEvent, context?: LambdaContext): Promise<HttpResult> =>
    runtime.invoke(context, httpInvocation(event), async (span) => {
      try {
        await runtime.ready()
      } catch (error) {
        // No service to answer (e.g. the broker is unreachable): a gateway-shaped 503, not a crash.
        return unavailable(event, error, logger)
      }
      const request = withTraceparent(stripStage ? withoutStage(event) : event, localTraceparent(span))
      return respond(request as never, context as never)
    })
  return Object.assign(handler, { runtime, close: () => runtime.close() })
}

/**
 * The invocation's span for an HTTP event: named after the API Gateway route (REST `resource`,
 * HTTP API `routeKey`) when it has one, else the function; continues the request's W3C
 * traceparent and links its `x-amzn-trace-id`. A 5xx answer marks it failed.
 */
function httpInvocation(event: HttpEvent): InvocationTrigger<HttpResult> {
  const header = headerReader(event)
  const route = 'rawPath' in event ? routeOf(event.routeKey) : event.resource
  const method = 'rawPath' in event ? event.requestContext?.http?.method : event.httpMethod
  return {
    trigger: 'http',
    name: route,
    attributes: {
      ...(method ? { 'http.request.method': method } : {}),
      ...(route ? { 'http.route': route } : {}),
    },
    traceparent: header('traceparent'),
    tracestate: header('tracestate'),
    xray: [{ source: 'x-amzn-trace-id', header: header('x-amzn-trace-id') }],
    settle(span, result) {
      span.setAttribute('http.response.status_code', result.statusCode)
      if (result.statusCode >= 500) {
        span.setAttribute('error.type', String(result.statusCode))
        span.setStatus({ code: SpanStatusCode.ERROR })
      }
    },
  }
}

/** An HTTP API route key (`POST /users/{id}`) as a route; `$default` names none. */
function routeOf(routeKey: string | undefined): string | undefined {
  if (!routeKey || routeKey === '$default') return undefined
  const space = routeKey.indexOf(' ')
  return space === -1 ? routeKey : routeKey.slice(space + 1)
}

/**
 * The request as the gateway sees it: its `traceparent` names the invocation's span, so the
 * gateway's and the engine's spans are its children whether or not the caller sent one.
 */
function withTraceparent(event: HttpEvent, traceparent: string | undefined): HttpEvent {
  if (traceparent === undefined) return event
  const replace = <V>(headers: Record<string, V | undefined> | null | undefined, value: V) => {
    if (!headers) return headers
    const copy = Object.fromEntries(
      Object.entries(headers).filter(([name]) => name.toLowerCase() !== 'traceparent'),
    )
    copy.traceparent = value
    return copy
  }
  if ('rawPath' in event) return { ...event, headers: replace(event.headers, traceparent)! }
  return {
    ...event,
    headers: replace(event.headers, traceparent) ?? { traceparent },
    multiValueHeaders: replace(event.multiValueHeaders, [traceparent]),
  }
}

function headerReader(event: HttpEvent): (name: string) => string | undefined {
  const headers = new Map<string, string>()
  const multi = 'multiValueHeaders' in event ? event.multiValueHeaders : undefined
  for (const [name, values] of Object.entries(multi ?? {})) {
    if (values?.[0] !== undefined) headers.set(name.toLowerCase(), values[0])
  }
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined) headers.set(name.toLowerCase(), value)
  }
  return (name) => headers.get(name)
}

/** HTTP API events of a named stage carry it in `rawPath` (`/prod/api/...`). */
function withoutStage(event: HttpEvent): HttpEvent {
  if (!('rawPath' in event)) return event
  const stage = event.requestContext.stage
  if (!stage || stage === '$default') return event
  const prefix = `/${stage}`
  if (event.rawPath !== prefix && !event.rawPath.startsWith(`${prefix}/`)) return event
  return { ...event, rawPath: event.rawPath.slice(prefix.length) || '/' }
}

function unavailable(event: HttpEvent, error: unknown, logger: Logger): HttpResult {
  const correlationId = correlationIdOf(headerReader(event))
  logger.error({ err: error, correlationId }, 'the function could not start its service')
  const reply = toErrorReply(
    new BridgeUnavailableError('The service could not start (its bridge is unreachable); try again'),
    correlationId,
    logger,
  )
  return {
    statusCode: reply.status,
    headers: { 'content-type': 'application/json', [CORRELATION_HEADER]: correlationId },
    body: JSON.stringify(reply.body),
    isBase64Encoded: false,
  }
}
