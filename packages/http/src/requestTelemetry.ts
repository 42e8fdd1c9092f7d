import type { Logger } from '@conduit/core'
import {
  type Attributes,
  createNoopMeter,
  type Histogram,
  isSpanContextValid,
  metrics,
  ProxyTracerProvider,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Context as TraceContext,
  type Tracer,
  type TracerProvider,
  trace,
  context as traceContextApi,
} from '@opentelemetry/api'
import type { Context } from 'hono'
import type { HeaderReader } from './requestHeaders.js'
import { incomingTraceContext, traceparentOf, validTraceparent } from './traceContext.js'

/** A level of the gateway's logger. */
export type AccessLogLevel = Exclude<keyof Logger, 'child'>

export interface AccessLogOptions {
  /** default `info` */
  level?: AccessLogLevel
}

const INSTRUMENTATION_SCOPE = '@conduit/http'
const INSTRUMENTATION_VERSION = '0.1.0'
// What the API falls back to when no SDK is registered: its tracers make no spans, its meters record nothing.
const NO_TRACER_PROVIDER = new ProxyTracerProvider().getDelegate()
const NOOP_METER_CLASS = createNoopMeter().constructor
// The bucket boundaries the HTTP semantic conventions advise for http.server.request.duration.
const DURATION_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]
const KNOWN_METHODS = new Set([
  'CONNECT',
  'DELETE',
  'GET',
  'HEAD',
  'OPTIONS',
  'PATCH',
  'POST',
  'PUT',
  'QUERY',
  'TRACE',
])

/**
 * The gateway's view of every request: an HTTP server span, the `http.server.request.duration`
 * histogram and one access log line, named as the OpenTelemetry HTTP semantic conventions name
 * them. The tracer and meter are looked up again whenever the global providers change, so an SDK
 * registered after the gateway was built still gets everything, and without one a request costs
 * two comparisons and the log call.
 */
export class RequestTelemetry {
  private tracerSource: TracerProvider | undefined
  private tracer: Tracer | undefined
  private meterSource: unknown
  private duration: Histogram | undefined

  constructor(
    readonly logger: Logger,
    readonly accessLogLevel: AccessLogLevel | undefined,
  ) {}

  /** Starts observing one request; `route` is the matched route template, if any. */
  begin(c: Context, route: string | undefined, correlationId: string, header: HeaderReader): ObservedRequest {
    return new ObservedRequest(this, c, route, correlationId, header)
  }

  currentTracer(): Tracer | undefined {
    const global = trace.getTracerProvider()
    const provider = global instanceof ProxyTracerProvider ? global.getDelegate() : global
    if (provider !== this.tracerSource) {
      this.tracerSource = provider
      this.tracer =
        provider === NO_TRACER_PROVIDER
          ? undefined
          : provider.getTracer(INSTRUMENTATION_SCOPE, INSTRUMENTATION_VERSION)
    }
    return this.tracer
  }

  currentDurationHistogram(): Histogram | undefined {
    const provider = metrics.getMeterProvider()
    if (provider !== this.meterSource) {
      this.meterSource = provider
      const meter = provider.getMeter(INSTRUMENTATION_SCOPE, INSTRUMENTATION_VERSION)
      this.duration =
        meter.constructor === NOOP_METER_CLASS
          ? undefined
          : meter.createHistogram('http.server.request.duration', {
              unit: 's',
              description: 'Duration of HTTP server requests.',
              advice: { explicitBucketBoundaries: DURATION_BUCKETS_SECONDS },
            })
    }
    return this.duration
  }
}

/** One request from its start to its response. Call `end` exactly once. */
export class ObservedRequest {
  /**
   * What the Conduit call continues: the HTTP span when there is one, else the caller's own
   * `traceparent`. Without either the bridge starts the trace (inventing one here would make the
   * engine take its slower traced path on every call, with no SDK to record anything).
   */
  readonly traceparent: string | undefined
  readonly tracestate: string | undefined
  private readonly span: Span | undefined
  private readonly spanContext: TraceContext | undefined
  private readonly startedAt = performance.now()

  constructor(
    private readonly telemetry: RequestTelemetry,
    private readonly c: Context,
    private readonly route: string | undefined,
    private readonly correlationId: string,
    private readonly header: HeaderReader,
  ) {
    const tracer = telemetry.currentTracer()
    if (tracer) {
      const parent = incomingTraceContext(c, header)
      const method = c.req.method
      const span = tracer.startSpan(
        route === undefined ? methodForName(method) : `${methodForName(method)} ${route}`,
        { kind: SpanKind.SERVER, attributes: spanStartAttributes(c, route, header) },
        parent,
      )
      const own = span.spanContext()
      if (isSpanContextValid(own)) {
        this.span = span
        this.spanContext = trace.setSpan(parent, span)
        this.traceparent = traceparentOf(own)
        this.tracestate = own.traceState?.serialize() ?? header('tracestate')
        return
      }
    }
    const given = header('traceparent')
    if (validTraceparent(given)) {
      this.traceparent = given
      this.tracestate = header('tracestate')
    }
  }

  /** Runs `work` with the HTTP span active, so spans started inside it become its children. */
  run<T>(work: () => T): T {
    return this.spanContext ? traceContextApi.with(this.spanContext, work) : work()
  }

  /** Records the response: closes the span, records the duration, writes the access log line. */
  end(status: number, error?: unknown): void {
    const durationMs = performance.now() - this.startedAt
    // Only 5xx are errors for a server (4xx are the client's): the status code is the error type.
    const errorType = status >= 500 ? String(status) : undefined
    const { c, route, span, telemetry } = this
    if (span) {
      span.setAttribute('http.response.status_code', status)
      if (errorType) {
        span.setAttribute('error.type', errorType)
        if (error !== undefined) span.recordException(error instanceof Error ? error : String(error))
        span.setStatus({ code: SpanStatusCode.ERROR })
      }
      span.end()
    }
    const histogram = telemetry.currentDurationHistogram()
    if (histogram) {
      const attributes: Attributes = {
        'http.request.method': knownMethod(c.req.method),
        'url.scheme': schemeOf(c),
        'http.response.status_code': status,
      }
      if (route !== undefined) attributes['http.route'] = route
      if (errorType) attributes['error.type'] = errorType
      histogram.record(durationMs / 1000, attributes)
    }
    const level = telemetry.accessLogLevel
    if (level) {
      telemetry.logger[level](
        {
          method: c.req.method,
          route,
          path: c.req.path,
          status,
          durationMs: Math.round(durationMs * 1000) / 1000,
          correlationId: this.correlationId,
          traceId: this.traceparent?.slice(3, 35),
          spanId: span ? this.traceparent?.slice(36, 52) : undefined,
          userAgent: this.header('user-agent'),
        },
        'http request',
      )
    }
  }
}

/** What the conventions ask for when the span starts (samplers may read them). */
function spanStartAttributes(c: Context, route: string | undefined, header: HeaderReader): Attributes {
  const method = c.req.method
  const attributes: Attributes = {
    'http.request.method': knownMethod(method),
    'url.path': c.req.path,
    'url.scheme': schemeOf(c),
  }
  if (attributes['http.request.method'] !== method) attributes['http.request.method_original'] = method
  if (route !== undefined) attributes['http.route'] = route
  const host = header('host')
  if (host) {
    const { address, port } = splitHost(host)
    attributes['server.address'] = address
    if (port !== undefined) attributes['server.port'] = port
  }
  const userAgent = header('user-agent')
  if (userAgent !== undefined) attributes['user_agent.original'] = userAgent
  const httpVersion = (c.env as { incoming?: { httpVersion?: string } } | undefined)?.incoming?.httpVersion
  // the conventions write HTTP/2 as `2`; Node reports `2.0`
  if (httpVersion) attributes['network.protocol.version'] = httpVersion === '2.0' ? '2' : httpVersion
  return attributes
}

function knownMethod(method: string): string {
  return KNOWN_METHODS.has(method) ? method : '_OTHER'
}

// The conventions name spans of unknown methods `HTTP`.
function methodForName(method: string): string {
  return KNOWN_METHODS.has(method) ? method : 'HTTP'
}

function schemeOf(c: Context): string {
  return c.req.url.startsWith('https:') ? 'https' : 'http'
}

/** `example.org:8080`, `[::1]:3000` or `example.org` into address and port. */
function splitHost(host: string): { address: string; port: number | undefined } {
  const portStart = host.lastIndexOf(':')
  const bracketEnd = host.lastIndexOf(']')
  if (portStart === -1 || portStart < bracketEnd) return { address: stripBrackets(host), port: undefined }
  const port = Number(host.slice(portStart + 1))
  return {
    address: stripBrackets(host.slice(0, portStart)),
    port: Number.isInteger(port) ? port : undefined,
  }
}

function stripBrackets(address: string): string {
  return address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address
}
