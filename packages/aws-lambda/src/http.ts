import { BridgeUnavailableError, type Logger, type Service, type ServiceDefinition } from '@conduit/core'
import {
  CORRELATION_HEADER,
  correlationIdOf,
  createGateway,
  type GatewayOptions,
  toErrorReply,
} from '@conduit/http'
import { handle } from 'hono/aws-lambda'
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
  const logger = options.logger ?? runtime.bridge.logger
  // The gateway loads the OpenAPI generator and the docs page's files on first use only, so a
  // bundle without swagger-ui-dist still starts (its /docs answers 404 with a warning).
  const gateway = createGateway({
    ...gatewayOptions,
    services: [runtime.service.definition, ...services.filter((s) => s !== runtime.service.definition)],
    bridge: runtime.bridge,
  })
  const respond = handle(gateway)

  const handler = async (event: HttpEvent, context?: LambdaContext): Promise<HttpResult> => {
    try {
      await runtime.ready()
    } catch (error) {
      // No service to answer (e.g. the broker is unreachable): a gateway-shaped 503, not a crash.
      return unavailable(event, error, logger)
    }
    const request = stripStage ? withoutStage(event) : event
    return runtime.bridge.runInvocation(context, () => respond(request as never, context as never))
  }
  return Object.assign(handler, { runtime, close: () => runtime.close() })
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
  const headers = new Map(
    Object.entries(event.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value ?? undefined]),
  )
  const correlationId = correlationIdOf((name) => headers.get(name))
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
