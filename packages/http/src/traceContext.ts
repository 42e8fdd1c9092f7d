import type { IncomingHttpHeaders } from 'node:http'
import { parseTraceparent } from '@conduit/core'
import {
  context,
  createTraceState,
  defaultTextMapGetter,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  type SpanContext,
  type Context as TraceContext,
  trace,
} from '@opentelemetry/api'
import type { Context } from 'hono'
import type { HeaderReader } from './requestHeaders.js'

/**
 * The context the request's HTTP span continues. A span already active (an outer server span,
 * e.g. from @opentelemetry/instrumentation-http) comes first; then whatever the globally
 * registered propagator reads from the headers (W3C, B3, baggage: as the SDK was set up); and
 * when it reads nothing, the W3C `traceparent` / `tracestate` headers themselves, so the caller's
 * trace is continued even where no propagator was registered.
 */
export function incomingTraceContext(c: Context, header: HeaderReader): TraceContext {
  const active = context.active()
  if (trace.getSpan(active)) return active
  const extracted = propagation.extract(ROOT_CONTEXT, headerCarrier(c), defaultTextMapGetter)
  if (trace.getSpan(extracted)) return extracted
  const remote = validTraceparent(header('traceparent'))
  if (!remote) return extracted
  const tracestate = header('tracestate')
  return trace.setSpanContext(
    extracted,
    tracestate ? { ...remote, traceState: createTraceState(tracestate) } : remote,
  )
}

/** The W3C `traceparent` naming `spanContext` as the parent. */
export function traceparentOf(spanContext: SpanContext): string {
  const flags = (spanContext.traceFlags & 0xff).toString(16).padStart(2, '0')
  return `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`
}

/** The caller's `traceparent` when it is well-formed, with valid ids. */
export function validTraceparent(traceparent: string | undefined): SpanContext | undefined {
  const spanContext = traceparent === undefined ? undefined : parseTraceparent({ traceparent })
  return spanContext && isSpanContextValid(spanContext) ? spanContext : undefined
}

function headerCarrier(c: Context): IncomingHttpHeaders | Record<string, string> {
  const incoming = (c.env as { incoming?: { headers?: IncomingHttpHeaders } } | undefined)?.incoming
  return incoming?.headers ?? Object.fromEntries(c.req.raw.headers)
}
