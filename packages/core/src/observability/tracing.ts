import { randomBytes } from 'node:crypto'
import {
  type Attributes,
  context,
  INVALID_SPAN_CONTEXT,
  type ProxyTracerProvider,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
} from '@opentelemetry/api'

export { SpanKind }

const tracer = trace.getTracer('@conduit/core', '0.1.0')
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/

export interface TraceCarrier {
  traceparent?: string | undefined
  tracestate?: string | undefined
}

export function parseTraceparent(carrier: TraceCarrier): SpanContext | undefined {
  const match = carrier.traceparent ? TRACEPARENT.exec(carrier.traceparent) : null
  if (!match) return undefined
  const spanContext: SpanContext = {
    traceId: match[1]!,
    spanId: match[2]!,
    traceFlags: Number.parseInt(match[3]!, 16),
    isRemote: true,
  }
  return spanContext
}

export function traceIdOf(traceparent: string | undefined): string | undefined {
  return traceparent?.slice(3, 35)
}

// Trace and span ids: a random per-process prefix plus a counter. Unique and valid per W3C,
// and far cheaper per message than fresh random bytes.
const TRACE_PREFIX = randomBytes(8).toString('hex')
let idCounter = 0
function nextHex16(): string {
  return (++idCounter).toString(16).padStart(16, '0')
}
function newTraceId(): string {
  return TRACE_PREFIX + nextHex16()
}

// Without an OpenTelemetry SDK every span is a no-op, yet building one (context maps,
// traceparent parsing) costs more than the rest of an in-memory call. So the engine asks
// whether a real tracer answers, again whenever the global provider's delegate changes (an SDK
// registered at any time is picked up at the next span).
export const NOOP_SPAN: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT)
let knownDelegate: unknown
let tracingActive = false

export function isTracingActive(): boolean {
  const provider = trace.getTracerProvider() as ProxyTracerProvider
  const delegate = typeof provider.getDelegate === 'function' ? provider.getDelegate() : provider
  if (delegate !== knownDelegate) {
    knownDelegate = delegate
    const probe = tracer.startSpan('conduit.probe', {}, ROOT_CONTEXT)
    tracingActive = trace.isSpanContextValid(probe.spanContext())
    probe.end()
  }
  return tracingActive
}

/** Starts a span whose parent is the carrier's traceparent (or the active context). */
export function startSpan(name: string, kind: SpanKind, attributes: Attributes, parent?: TraceCarrier): Span {
  if (!isTracingActive()) return NOOP_SPAN
  const parentContext = parent ? parseTraceparent(parent) : undefined
  const ctx = parentContext ? trace.setSpanContext(ROOT_CONTEXT, parentContext) : context.active()
  return tracer.startSpan(name, { kind, attributes }, ctx)
}

/**
 * The traceparent for a message sent under `span`. With an OpenTelemetry SDK the span's own ids
 * are used; without one (non-recording span) the trace id still continues from `parent` so
 * logs and envelopes stay linked, with a fresh span id.
 */
export function outgoingTraceparent(span: Span, parent?: TraceCarrier): string {
  // No tracer: the message continues the caller's trace as is, or starts one.
  if (span === NOOP_SPAN) return parent?.traceparent ?? `00-${newTraceId()}-${nextHex16()}-00`
  const spanContext = span.spanContext()
  if (span.isRecording() && trace.isSpanContextValid(spanContext)) {
    return `00-${spanContext.traceId}-${spanContext.spanId}-0${spanContext.traceFlags.toString(16)}`
  }
  const parentTrace = traceIdOf(parent?.traceparent)
  const traceId = parentTrace && parentTrace.length === 32 ? parentTrace : newTraceId()
  const flags = parent?.traceparent?.slice(53, 55) ?? `0${TraceFlags.NONE}`
  return `00-${traceId}-${nextHex16()}-${flags}`
}

export function recordSpanError(span: Span, error: unknown): void {
  if (!span.isRecording()) return
  span.recordException(error instanceof Error ? error : new Error(String(error)))
  span.setStatus({ code: SpanStatusCode.ERROR })
}

/** The traceparent that children of `span` should use: the span's own ids when recording, else `fallback`. */
export function spanTraceparent(span: Span, fallback: string | undefined): string | undefined {
  if (!span.isRecording()) return fallback
  const spanContext = span.spanContext()
  return `00-${spanContext.traceId}-${spanContext.spanId}-0${spanContext.traceFlags.toString(16)}`
}
