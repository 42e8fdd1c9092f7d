import {
  INVALID_SPANID,
  isValidSpanId,
  isValidTraceId,
  type Link,
  type SpanContext,
  TraceFlags,
} from '@opentelemetry/api'

/** Where an X-Ray trace header was read; recorded on the span link as `conduit.xray.source`. */
export type XRaySource = '_X_AMZN_TRACE_ID' | 'x-amzn-trace-id' | 'AWSTraceHeader'

/** An X-Ray trace header, as the OpenTelemetry AWS X-Ray propagator reads it. */
export interface XRayTraceContext {
  readonly source: XRaySource
  /** the 32 hex digits of `Root=1-<8 hex>-<24 hex>` without the version and dashes */
  readonly traceId: string
  /** `Parent=<16 hex>`; API Gateway HTTP APIs and function URLs send a Root only */
  readonly spanId: string | undefined
  /** `Sampled=1` / `Sampled=0`; undefined when absent or undecided (`?`) */
  readonly sampled: boolean | undefined
}

export const XRAY_SOURCE_ATTRIBUTE = 'conduit.xray.source'
const ROOT = /^1-([0-9a-f]{8})-([0-9a-f]{24})$/i

/**
 * Parses `Root=1-<8 hex>-<24 hex>;Parent=<16 hex>;Sampled=<0|1>` (other keys, such as Lineage,
 * are ignored). The trace id is the Root's 32 hex digits, as `@opentelemetry/propagator-aws-xray`
 * derives it; a header without a valid Root is no context at all.
 */
export function parseXRayTraceHeader(
  header: string | undefined,
  source: XRaySource,
): XRayTraceContext | undefined {
  if (!header) return undefined
  let traceId: string | undefined
  let spanId: string | undefined
  let sampled: boolean | undefined
  for (const part of header.split(';')) {
    const separator = part.indexOf('=')
    const key = part.slice(0, separator).trim()
    const value = part.slice(separator + 1).trim()
    if (key === 'Root') {
      const root = ROOT.exec(value)
      traceId = root ? (root[1]! + root[2]!).toLowerCase() : undefined
    } else if (key === 'Parent') {
      spanId = isValidSpanId(value) ? value.toLowerCase() : undefined
    } else if (key === 'Sampled') {
      sampled = value === '1' ? true : value === '0' ? false : undefined
    }
  }
  if (traceId === undefined || !isValidTraceId(traceId)) return undefined
  return { source, traceId, spanId, sampled }
}

/**
 * The invocation's own trace header: the Lambda runtime's per-invocation store when it keeps one
 * (Lambda Managed Instances run several invocations at once in one process), else the
 * `_X_AMZN_TRACE_ID` environment variable the runtime sets before each invocation.
 */
export function invocationTraceHeader(): string | undefined {
  const store = (globalThis as { awslambda?: { InvokeStore?: { getXRayTraceId?: () => unknown } } }).awslambda
    ?.InvokeStore
  const fromStore = typeof store?.getXRayTraceId === 'function' ? store.getXRayTraceId() : undefined
  return typeof fromStore === 'string' && fromStore !== '' ? fromStore : process.env._X_AMZN_TRACE_ID
}

/**
 * The span context to continue as a parent: only a complete header (Root, Parent and a sampling
 * decision), exactly what the AWS X-Ray propagator accepts.
 */
export function xrayParentContext(xray: XRayTraceContext): SpanContext | undefined {
  if (xray.spanId === undefined || xray.sampled === undefined) return undefined
  return spanContextOf(xray, xray.spanId)
}

/**
 * A link to the X-Ray context. A Root-only header still links the trace: its span id is the
 * invalid all-zero one, which OpenTelemetry records on a link that has attributes.
 */
export function xrayLink(xray: XRayTraceContext): Link {
  return {
    context: spanContextOf(xray, xray.spanId ?? INVALID_SPANID),
    attributes: { [XRAY_SOURCE_ATTRIBUTE]: xray.source },
  }
}

function spanContextOf(xray: XRayTraceContext, spanId: string): SpanContext {
  return {
    traceId: xray.traceId,
    spanId,
    traceFlags: xray.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
    isRemote: true,
  }
}
