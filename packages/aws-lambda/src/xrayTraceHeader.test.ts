import { defaultTextMapGetter, ROOT_CONTEXT, trace } from '@opentelemetry/api'
import { AWSXRayPropagator } from '@opentelemetry/propagator-aws-xray'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { defaultXRayContextMode } from './invocationSpan.js'
import {
  invocationTraceHeader,
  parseXRayTraceHeader,
  xrayLink,
  xrayParentContext,
} from './xrayTraceHeader.js'

/** What the OpenTelemetry AWS X-Ray propagator extracts from `header`, as a span context. */
function propagatorContext(header: string) {
  const extracted = new AWSXRayPropagator().extract(
    ROOT_CONTEXT,
    { 'x-amzn-trace-id': header },
    defaultTextMapGetter,
  )
  return trace.getSpanContext(extracted)
}

describe('X-Ray trace headers', () => {
  afterEach(() => {
    vi.unstubAllEnvs()
    delete (globalThis as { awslambda?: unknown }).awslambda
  })

  it.each([
    'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
    'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0',
    'Parent=53995c3f42cd8ad8; Sampled=1; Root=1-5759e988-bd862e3fe1be46a994272793',
    'Root=1-67891233-abcdef012345678912345678;Parent=0123456789abcdef;Sampled=1;Lineage=a87bd80c:1|68fd508a:5',
  ])('a complete header is the context the AWS X-Ray propagator extracts: %s', (header) => {
    const parsed = parseXRayTraceHeader(header, 'x-amzn-trace-id')
    expect(parsed && xrayParentContext(parsed)).toEqual(propagatorContext(header))
  })

  it.each([
    ['Root=1-5759e988-bd862e3fe1be46a994272793', 0],
    ['Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=?', 0],
    ['Root=1-5759e988-bd862e3fe1be46a994272793;Parent=0000000000000000;Sampled=1', 1],
  ])('%s: no parent (the propagator rejects it), but a link to its trace', (header, traceFlags) => {
    expect(propagatorContext(header)).toBeUndefined()
    const parsed = parseXRayTraceHeader(header, 'x-amzn-trace-id')!
    expect(xrayParentContext(parsed)).toBeUndefined()
    expect(xrayLink(parsed)).toEqual({
      context: {
        traceId: '5759e988bd862e3fe1be46a994272793',
        spanId: '0000000000000000',
        traceFlags,
        isRemote: true,
      },
      attributes: { 'conduit.xray.source': 'x-amzn-trace-id' },
    })
  })

  it.each([
    'Root=1-5e6722a7-cc56xmpl46db7ae02d4da47e', // the docs' redacted example: not hex
    'Root=2-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
    'Root=1-00000000-000000000000000000000000;Parent=53995c3f42cd8ad8;Sampled=1',
    'Parent=53995c3f42cd8ad8;Sampled=1',
    '',
  ])('no valid Root, no context at all: %s', (header) => {
    expect(parseXRayTraceHeader(header, 'AWSTraceHeader')).toBeUndefined()
    expect(propagatorContext(header)).toBeUndefined()
  })

  it("reads the invocation's header from the runtime's per-invocation store, else _X_AMZN_TRACE_ID", () => {
    vi.stubEnv('_X_AMZN_TRACE_ID', 'Root=1-11111111-111111111111111111111111')
    expect(invocationTraceHeader()).toBe('Root=1-11111111-111111111111111111111111')
    ;(globalThis as { awslambda?: unknown }).awslambda = {
      InvokeStore: { getXRayTraceId: () => 'Root=1-22222222-222222222222222222222222' },
    }
    expect(invocationTraceHeader()).toBe('Root=1-22222222-222222222222222222222222')
  })

  it('chooses parent mode where OTEL_PROPAGATORS lists xray-lambda, the conventions switch', () => {
    expect(defaultXRayContextMode({})).toBe('link')
    expect(defaultXRayContextMode({ OTEL_PROPAGATORS: 'tracecontext,baggage,xray' })).toBe('link')
    expect(defaultXRayContextMode({ OTEL_PROPAGATORS: 'tracecontext, baggage, xray-lambda' })).toBe('parent')
  })
})
