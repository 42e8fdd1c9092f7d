import { type EventBridge, HealthMonitor, type Logger, type ServiceDefinition } from '@conduit/core'
import { type Context, Hono, type MiddlewareHandler } from 'hono'
import { cors } from 'hono/cors'
import { routePath } from 'hono/route'
import { ASYNCAPI_PATH, type GatewayAsyncApiOptions, mountAsyncApi } from './asyncapiRoute.js'
import { type AuthHook, bearerJwtAuth, type JwtAuthOptions, type Principal } from './auth.js'
import { commandHandler, errorResponse } from './commandRoute.js'
import { CORRELATION_HEADER, correlationIdOf } from './correlation.js'
import { mountDocsPage } from './docsPage.js'
import { requestErrors } from './errorResponses.js'
import { type EventStreamOptions, mountEventStream } from './eventStreamRoute.js'
import { mountHealth, type ReadinessCheck } from './health.js'
import { buildOpenApiDocument, type OpenApiOptions } from './openapi.js'
import { headerReader } from './requestHeaders.js'
import { type AccessLogOptions, RequestTelemetry } from './requestTelemetry.js'
import { buildRouteTable, defaultRoutePath, type GatewayRoute, type RoutePathBuilder } from './routes.js'

export interface GatewayOptions {
  /** service definitions (no handlers needed): every command with `http` becomes a route */
  services: readonly ServiceDefinition<any>[]
  bridge: EventBridge
  /** default `/api`; a command's path is `${prefix}/v${version}/${service}${http.path}` */
  prefix?: string
  /** replaces the default path layout above */
  routePath?: RoutePathBuilder
  /** an auth hook, or options for the default bearer JWT verifier */
  auth?: AuthHook | JwtAuthOptions
  /** treat endpoints without `http.public` as public (default false: protected) */
  publicByDefault?: boolean
  /** false (default), true (any origin) or Hono CORS options */
  cors?: boolean | CorsOptions
  /** bytes; default 1 MiB; larger bodies get 413 */
  bodyLimit?: number
  /** command timeout in ms when the command sets none; default: the bridge's (30 s) */
  timeout?: number
  /** request headers copied to the envelope's `headers`, e.g. `['accept-language']` */
  forwardHeaders?: string[]
  /** document info, or false to serve neither `/openapi.json` nor `/docs` */
  openapi?: OpenApiOptions | false
  /** serve the Swagger UI page at `/docs` (default true when openapi is on) */
  docs?: boolean
  /** serve the AsyncAPI 3.0 document of the services' commands and events on `bridge` at `/asyncapi.json` (default off) */
  asyncapi?: GatewayAsyncApiOptions | boolean
  /** extra `/readyz` checks besides the bridge, by dependency name */
  readiness?: Record<string, ReadinessCheck>
  /**
   * the monitor behind `/healthz` and `/readyz`, when the process shares one (it then holds the
   * readiness checks); default: one for the bridge and `readiness`
   */
  health?: HealthMonitor
  /** one line per request at this level (default `{ level: 'info' }`), or false for none */
  accessLog?: AccessLogOptions | false
  /** opt-in Server-Sent Events endpoint */
  sse?: EventStreamOptions
  logger?: Logger
}

export type CorsOptions = NonNullable<Parameters<typeof cors>[0]>

export type GatewayEnv = { Variables: { correlationId: string } }

export const DEFAULT_BODY_LIMIT = 1024 * 1024
export const OPENAPI_PATH = '/openapi.json'
export const DOCS_PATH = '/docs'

/** Builds the Hono app serving the commands of `services` over `bridge`. Mount it anywhere. */
export function createGateway(options: GatewayOptions): Hono<GatewayEnv> {
  const { bridge } = options
  const prefix = normalizePrefix(options.prefix ?? '/api')
  const publicByDefault = options.publicByDefault ?? false
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT
  const logger = (options.logger ?? bridge.logger).child({ component: 'http-gateway' })
  const routes = buildRouteTable(options.services, {
    prefix,
    publicByDefault,
    routePath: options.routePath ?? defaultRoutePath,
  })
  const sse = options.sse
  const ssePath = sse ? (sse.path ?? `${prefix}/events`) : undefined
  const sseIsPublic = sse?.public ?? publicByDefault
  if (options.health && options.readiness) {
    throw new TypeError('createGateway: pass the readiness checks to the HealthMonitor given as `health`')
  }
  const health = options.health ?? new HealthMonitor(bridge, options.readiness ?? {})
  const telemetry = new RequestTelemetry(
    logger,
    options.accessLog === false ? undefined : (options.accessLog?.level ?? 'info'),
  )
  const auth = resolveAuth(
    options.auth,
    routes.some((route) => !route.isPublic) || (sse !== undefined && !sseIsPublic),
  )

  const app = new Hono<GatewayEnv>()
  if (options.cors) app.use('*', observedPreflight(cors(corsOptions(options.cors)), telemetry))

  const authenticate = async (
    c: Context,
    route: GatewayRoute | undefined,
  ): Promise<Principal | undefined> => {
    const principal = await auth!(c.req.raw, route)
    if (!principal) throw requestErrors.unauthorized()
    return principal
  }

  const commandDependencies = {
    bridge,
    logger,
    bodyLimit,
    timeout: options.timeout,
    forwardHeaders: options.forwardHeaders,
    authenticate,
    telemetry,
  }
  for (const route of routes) app.on(route.method, route.path, commandHandler(route, commandDependencies))

  // Every other route gets the correlation header and is observed by a middleware scoped to its
  // own paths, so the command routes above (which observe themselves) stay middleware-free.
  const observe: MiddlewareHandler<GatewayEnv> = async (c, next) => {
    if (c.get('correlationId') !== undefined) return next() // matched by two of the paths below
    const header = headerReader(c)
    const correlationId = correlationIdOf(header)
    c.set('correlationId', correlationId)
    c.header(CORRELATION_HEADER, correlationId)
    // the last matched route is the handler's (these middlewares are registered before any handler)
    const request = telemetry.begin(c, routePath(c, -1), correlationId, header)
    await request.run(next)
    request.end(c.res.status, c.error)
  }
  for (const path of [
    '/healthz',
    '/readyz',
    OPENAPI_PATH,
    DOCS_PATH,
    `${DOCS_PATH}/*`,
    ...(ssePath ? [ssePath] : []),
    ...(options.asyncapi ? [ASYNCAPI_PATH] : []),
  ]) {
    app.use(path, observe)
  }
  mountHealth(app, health)
  if (sse && ssePath) {
    mountEventStream(app, {
      bridge,
      logger,
      path: ssePath,
      isPublic: sseIsPublic,
      options: sse,
      authenticate,
    })
  }
  if (options.openapi !== false) {
    const openApiOptions = options.openapi ?? {}
    const eventStream =
      sse && ssePath ? { path: ssePath, isPublic: sseIsPublic, eventPattern: sse.eventPattern } : undefined
    // Generated on the first request and kept: a gateway (or a Lambda function) that is never
    // asked for the document never loads the generator.
    let document: Promise<string> | undefined
    app.get(OPENAPI_PATH, async (c) => {
      document ??= buildOpenApiDocument(options.services, routes, openApiOptions, eventStream).then(
        (generated) => JSON.stringify(generated),
        (error: unknown) => {
          document = undefined // answered as a 500 (and logged) now; the next request tries again
          throw error
        },
      )
      const body = await document
      c.header('content-type', 'application/json; charset=utf-8')
      return c.body(body)
    })
    if (options.docs ?? true) {
      mountDocsPage(app, {
        docsPath: DOCS_PATH,
        specPath: OPENAPI_PATH,
        title: openApiOptions.title ?? 'Conduit API',
        logger,
      })
    }
  }

  if (options.asyncapi) {
    mountAsyncApi(app, options.services, bridge, options.asyncapi === true ? {} : options.asyncapi)
  }

  app.notFound((c) => {
    const header = headerReader(c)
    const correlationId = c.get('correlationId') ?? correlationIdOf(header)
    // observed here unless a path middleware above already does (a docs asset that is not there)
    const request = c.get('correlationId') ? undefined : telemetry.begin(c, undefined, correlationId, header)
    const response = errorResponse(requestErrors.notFound(c.req.method, c.req.path), correlationId, logger)
    request?.end(response.status)
    return response
  })
  app.onError((error, c) =>
    errorResponse(error, c.get('correlationId') ?? correlationIdOf(headerReader(c)), logger),
  )
  return app
}

/**
 * CORS answers preflight (OPTIONS) requests itself, before any route: observe those here. Every
 * other request passes through to its route, which observes it.
 */
function observedPreflight(
  corsMiddleware: MiddlewareHandler,
  telemetry: RequestTelemetry,
): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.method !== 'OPTIONS') return corsMiddleware(c, next)
    const header = headerReader(c)
    const request = telemetry.begin(c, undefined, correlationIdOf(header), header)
    const response = await request.run(() => corsMiddleware(c, next))
    request.end((response ?? c.res).status)
    return response
  }
}

function resolveAuth(auth: GatewayOptions['auth'], needed: boolean): AuthHook | undefined {
  if (typeof auth === 'function') return auth
  if (auth !== undefined) return bearerJwtAuth(auth)
  if (needed) {
    // Failing here beats a gateway that silently answers 401 to everything (or worse, nothing).
    throw new TypeError(
      'createGateway: some endpoints are protected but no auth is configured; pass `auth` (a hook or { secret } / { publicKey } for JWT), mark the commands `http.public`, or set publicByDefault: true',
    )
  }
  return undefined
}

function corsOptions(option: true | CorsOptions): CorsOptions {
  const base: CorsOptions = option === true ? { origin: '*' } : option
  return { ...base, exposeHeaders: [...new Set([...(base.exposeHeaders ?? []), CORRELATION_HEADER])] }
}

function normalizePrefix(prefix: string): string {
  const trimmed = prefix.replace(/\/+$/, '')
  if (trimmed !== '' && !trimmed.startsWith('/'))
    throw new TypeError(`createGateway: prefix must start with '/'`)
  return trimmed
}
