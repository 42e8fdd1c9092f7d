import { randomFillSync } from 'node:crypto'
import {
  type Attributes,
  context,
  INVALID_SPAN_CONTEXT,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
} from '@opentelemetry/api'

export { SpanKind }

// Fetched again whenever the global provider changes: a ProxyTracer keeps the delegate it first
// found, so one kept from before `trace.disable()` would go on recording into the old SDK.
let tracer = trace.getTracer('@conduit/core', '0.1.0')
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

// Trace and span ids for messages sent without an OpenTelemetry SDK: random, as W3C Trace Context
// asks (a per-process prefix plus a counter would let anyone who sees one id guess the next).
// Random bytes are turned into hex a pool at a time, so an id costs a substring, not a system
// call and a conversion. The bytes come 16 KiB per randomFillSync (its fixed cost per call made
// 4 KiB fills cost 1.7 ns a byte, 16 KiB ones 0.4) and become hex 4 KiB at a time (larger
// strings convert ten times slower per byte). V8 keeps an id as a slice of its pool string, so a
// traceparent that outlives its message (a handler storing it) holds that 8 KiB string alive
// until V8 flattens it (encoding or slicing it does).
const RANDOM_BYTES = 16384
const HEX_CHUNK_BYTES = 4096
const randomPool = Buffer.alloc(RANDOM_BYTES)
let randomOffset = RANDOM_BYTES
let hexPool = ''
let hexOffset = 0
function randomHex(bytes: number): string {
  const length = bytes * 2
  if (hexOffset + length > hexPool.length) {
    if (randomOffset === RANDOM_BYTES) {
      randomFillSync(randomPool)
      randomOffset = 0
    }
    hexPool = randomPool.toString('hex', randomOffset, randomOffset + HEX_CHUNK_BYTES)
    randomOffset += HEX_CHUNK_BYTES
    hexOffset = 0
  }
  const hex = hexPool.slice(hexOffset, hexOffset + length)
  hexOffset += length
  // all zeros is the one invalid id; 2^-64 odds, but cheap to rule out (one character read
  // settles it for 15 ids in 16)
  return hex.charCodeAt(0) === 48 && hex === ALL_ZEROS[length] ? randomHex(bytes) : hex
}
const ALL_ZEROS: Record<number, string> = { 16: '0'.repeat(16), 32: '0'.repeat(32) }
function nextHex16(): string {
  return randomHex(8)
}
function newTraceId(): string {
  return randomHex(16)
}

// Without an OpenTelemetry SDK every span is a no-op, yet building one (context maps,
// traceparent parsing) costs more than the rest of an in-memory call. So the engine remembers
// whether the global provider's current delegate is the API's no-op one (a fresh proxy's
// delegate is), and looks again whenever the delegate changes: an SDK registered at any time is
// used from the next message on, and no probe span is ever exported.
export const NOOP_SPAN: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT)
const NOOP_TRACER_PROTOTYPE = Object.getPrototypeOf(new ProxyTracerProvider().getDelegate().getTracer('noop'))
let knownDelegate: unknown
let tracingActive = false

export function isTracingActive(): boolean {
  const provider = trace.getTracerProvider() as ProxyTracerProvider
  const delegate = typeof provider.getDelegate === 'function' ? provider.getDelegate() : provider
  if (delegate !== knownDelegate) {
    knownDelegate = delegate
    tracer = trace.getTracer('@conduit/core', '0.1.0')
    tracingActive = Object.getPrototypeOf(delegate.getTracer('@conduit/core')) !== NOOP_TRACER_PROTOTYPE
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
 * Runs `work` with `span` as the active span, so spans the handler starts (and instrumented
 * HTTP or database calls inside it) become its children instead of new traces.
 */
export function runInSpan<T>(span: Span, work: () => T): T {
  if (span === NOOP_SPAN) return work()
  return context.with(trace.setSpan(context.active(), span), work)
}

/**
 * The traceparent a message sent from inside a handler carries: the active span's (a child span
 * the handler started) when it belongs to the handler's trace, else the handler's own.
 */
export function activeTraceparent(handlerSpan: Span, fallback: string | undefined): string | undefined {
  if (handlerSpan === NOOP_SPAN) return fallback
  const active = trace.getActiveSpan()
  const chosen =
    active?.isRecording() && active.spanContext().traceId === handlerSpan.spanContext().traceId
      ? active
      : handlerSpan
  return spanTraceparent(chosen, fallback)
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
