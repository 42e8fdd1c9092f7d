import { randomBytes } from 'node:crypto'
import {
  type Attributes,
  context,
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

// Random ids come from a pooled buffer: one randomBytes call serves many spans.
let idPool = Buffer.alloc(0)
let idOffset = 0
function randomHex(bytes: number): string {
  if (idOffset + bytes > idPool.length) {
    idPool = randomBytes(4096)
    idOffset = 0
  }
  const hex = idPool.toString('hex', idOffset, idOffset + bytes)
  idOffset += bytes
  return hex
}

/** Starts a span whose parent is the carrier's traceparent (or the active context). */
export function startSpan(name: string, kind: SpanKind, attributes: Attributes, parent?: TraceCarrier): Span {
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
  const spanContext = span.spanContext()
  if (span.isRecording() && trace.isSpanContextValid(spanContext)) {
    return `00-${spanContext.traceId}-${spanContext.spanId}-0${spanContext.traceFlags.toString(16)}`
  }
  const parentTrace = traceIdOf(parent?.traceparent)
  const traceId = parentTrace && parentTrace.length === 32 ? parentTrace : randomHex(16)
  const flags = parent?.traceparent?.slice(53, 55) ?? `0${TraceFlags.NONE}`
  return `00-${traceId}-${randomHex(8)}-${flags}`
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
