import { parseTraceparent } from '@conduit/core'
import {
  type Attributes,
  type Link,
  context as otelContext,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api'
import { type FaasTrigger, faasAttributes, takeColdStart } from './faasAttributes.js'
import type { LambdaContext } from './lambdaTypes.js'
import {
  invocationTraceHeader,
  parseXRayTraceHeader,
  type XRaySource,
  type XRayTraceContext,
  xrayLink,
  xrayParentContext,
} from './xrayTraceHeader.js'

const tracer = () => trace.getTracer('@conduit/aws-lambda', '0.1.0')

/**
 * How the X-Ray trace headers an invocation carries relate to its span:
 * - `link` (default): each one becomes a span link;
 * - `parent`: the invocation's own header (`_X_AMZN_TRACE_ID`, else an HTTP `x-amzn-trace-id`)
 *   becomes the parent when no W3C `traceparent` came with the request; the others are links.
 */
export type XRayContextMode = 'link' | 'parent'

/** `parent` when OTEL_PROPAGATORS lists `xray-lambda`, the conventions' switch for this choice. */
export function defaultXRayContextMode(env: NodeJS.ProcessEnv = process.env): XRayContextMode {
  const propagators = (env.OTEL_PROPAGATORS ?? '').split(',').map((name) => name.trim())
  return propagators.includes('xray-lambda') ? 'parent' : 'link'
}

/** What an event source tells about one invocation, for its span. */
export interface InvocationTrigger<T = unknown> {
  readonly trigger: FaasTrigger
  /** default: the function name */
  readonly name?: string | undefined
  /** default SERVER */
  readonly kind?: SpanKind
  readonly attributes?: Attributes
  /** a W3C trace context that came with the event (an HTTP request's headers) */
  readonly traceparent?: string | undefined
  readonly tracestate?: string | undefined
  /** X-Ray trace headers the event carries (an HTTP header, SQS records' AWSTraceHeader) */
  readonly xray?: readonly { source: XRaySource; header: string | undefined }[]
  /** records what the invocation returned on its span (an HTTP status) */
  settle?(span: Span, result: T): void
}

/**
 * Starts the span of one invocation: SERVER (CONSUMER for an SQS batch), named after the route,
 * the queue or the function, with the FaaS attributes. Its parent is, in this order, a span
 * already active (an outer Lambda instrumentation's), the request's W3C traceparent, the X-Ray
 * context in `parent` mode, else none; every X-Ray context not used as the parent is a link.
 */
export function startInvocationSpan(
  trigger: InvocationTrigger<never>,
  lambda: Partial<LambdaContext> | undefined,
  mode: XRayContextMode,
): Span {
  const xray = [
    parseXRayTraceHeader(invocationTraceHeader(), '_X_AMZN_TRACE_ID'),
    ...(trigger.xray ?? []).map(({ source, header }) => parseXRayTraceHeader(header, source)),
  ].filter((found): found is XRayTraceContext => found !== undefined)

  let parent = otelContext.active()
  let xrayParent: XRayTraceContext | undefined
  const active = trace.getSpan(parent)?.spanContext()
  if (!active || !trace.isSpanContextValid(active)) {
    const w3c = parseTraceparent({ traceparent: trigger.traceparent, tracestate: trigger.tracestate })
    xrayParent = w3c || mode === 'link' ? undefined : xray.find((found) => xrayParentContext(found))
    const parentContext = w3c ?? (xrayParent && xrayParentContext(xrayParent))
    parent = parentContext ? trace.setSpanContext(ROOT_CONTEXT, parentContext) : ROOT_CONTEXT
  }

  const links: Link[] = []
  const linked = new Set<string>()
  for (const found of xray) {
    const key = `${found.traceId}-${found.spanId}`
    if (found === xrayParent || linked.has(key)) continue
    linked.add(key)
    links.push(xrayLink(found))
  }
  const attributes = { ...faasAttributes(lambda, trigger.trigger, takeColdStart()), ...trigger.attributes }
  const name = trigger.name ?? lambda?.functionName ?? process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'aws_lambda'
  return tracer().startSpan(name, { kind: trigger.kind ?? SpanKind.SERVER, attributes, links }, parent)
}

/** Marks the span failed with `error` (its type as `error.type`). */
export function recordInvocationError(span: Span, error: unknown): void {
  if (!span.isRecording()) return
  const exception = error instanceof Error ? error : new Error(String(error))
  span.recordException(exception)
  span.setAttribute('error.type', exception.name || 'Error')
  span.setStatus({ code: SpanStatusCode.ERROR, message: exception.message })
}

/**
 * The traceparent of `span` when it is a span of this process (an SDK's, sampled or not); not
 * when it only carries a remote parent's context (no SDK registered).
 */
export function localTraceparent(span: Span): string | undefined {
  const spanContext = span.spanContext()
  if (!trace.isSpanContextValid(spanContext) || spanContext.isRemote) return undefined
  return `00-${spanContext.traceId}-${spanContext.spanId}-${spanContext.traceFlags.toString(16).padStart(2, '0')}`
}
