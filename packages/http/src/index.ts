export { ASYNCAPI_PATH, type GatewayAsyncApiOptions } from './asyncapiRoute.js'
export { type AuthHook, bearerJwtAuth, type JwtAuthOptions, type Principal } from './auth.js'
export { CORRELATION_HEADER, correlationIdOf } from './correlation.js'
export { type ErrorBody, toErrorReply } from './errorResponses.js'
export { defaultEventAuthorization, type EventStreamOptions } from './eventStream.js'
export {
  type CorsOptions,
  createGateway,
  DEFAULT_BODY_LIMIT,
  DOCS_PATH,
  type GatewayEnv,
  type GatewayOptions,
  OPENAPI_PATH,
} from './gateway.js'
export type { ReadinessCheck } from './health.js'
export { buildOpenApiDocument, type OpenApiDocument, type OpenApiOptions } from './openapi.js'
export {
  DEFAULT_SHUTDOWN_DELAY_MS,
  type GatewayProcessOptions,
  type RunningGateway,
  runGatewayProcess,
} from './process.js'
export type { AccessLogLevel, AccessLogOptions } from './requestTelemetry.js'
export { buildRouteTable, defaultRoutePath, type GatewayRoute, type RoutePathBuilder } from './routes.js'
export { type ServedGateway, type ServeOptions, serveGateway } from './serve.js'
