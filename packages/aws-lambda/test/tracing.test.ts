import { context, SpanKind, TraceFlags, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { ATTR_FAAS_TRIGGER } from '@opentelemetry/semantic-conventions/incubating'
import type { APIGatewayProxyEventV2, SQSEvent } from 'aws-lambda'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createEventHandler, createHttpHandler, type HttpHandlerOptions } from '../src/index.js'
import { GREETINGS_METRIC, greeterService } from './support/greeter.js'
import { fixture, lambdaContext } from './support/lambda.js'
import { installTelemetry, type Telemetry } from './support/telemetry.js'

// X-Ray trace headers as AWS documents them: the Lambda runtime's (Root, Parent, Sampled), and
// the one an HTTP API or function URL adds to the request (a Root only).
const ENV_HEADER = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1'
const ENV_TRACE_ID = '5759e988bd862e3fe1be46a994272793'
const HTTP_HEADER = 'Root=1-65f1a2b3-0123456789abcdef01234567'
const HTTP_TRACE_ID = '65f1a2b30123456789abcdef01234567'
const W3C_TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'

/** A greeting request on an HTTP API (payload 2.0), from the documented fixture. */
function greetRequest(headers: Record<string, string> = {}): APIGatewayProxyEventV2 {
  const event = fixture<APIGatewayProxyEventV2>('api-gateway-v2')
  event.rawPath = '/api/v1/greeter/greet'
  event.requestContext.http.path = event.rawPath
  event.body = JSON.stringify({ name: 'Ada' })
  delete event.headers['content-length']
  delete event.headers['x-amzn-trace-id']
  Object.assign(event.headers, headers)
  return event
}

const invocationSpanOf = (spans: ReadableSpan[]) => {
  const found = spans.filter((span) => span.attributes[ATTR_FAAS_TRIGGER] !== undefined)
  expect(found).toHaveLength(1)
  return found[0]!
}
const linksOf = (span: ReadableSpan) =>
  span.links.map((link) => ({
    traceId: link.context.traceId,
    spanId: link.context.spanId,
    sampled: link.context.traceFlags === TraceFlags.SAMPLED,
    source: link.attributes?.['conduit.xray.source'],
  }))
const childrenOf = (spans: ReadableSpan[], parent: ReadableSpan) =>
  spans.filter((span) => span.parentSpanContext?.spanId === parent.spanContext().spanId)

describe('the invocation span', () => {
  let telemetry: Telemetry
  const closers: (() => Promise<void>)[] = []
  const httpHandler = (options: HttpHandlerOptions = {}) => {
    const handler = createHttpHandler(greeterService, { closeOnSigterm: false, ...options })
    closers.push(() => handler.close())
    return handler
  }
  const eventHandler = () => {
    const handler = createEventHandler(greeterService, { closeOnSigterm: false })
    closers.push(() => handler.close())
    return handler
  }

  beforeAll(() => {
    telemetry = installTelemetry()
  })
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((close) => close()))
    vi.unstubAllEnvs()
    await telemetry.reset()
  })
  afterAll(() => telemetry.close())

  it('links the request x-amzn-trace-id and the invocation _X_AMZN_TRACE_ID (trace id = Root without dashes)', async () => {
    vi.stubEnv('_X_AMZN_TRACE_ID', ENV_HEADER)
    const result = await httpHandler()(greetRequest({ 'x-amzn-trace-id': HTTP_HEADER }), lambdaContext())
    expect(result.statusCode).toBe(200)
    const span = invocationSpanOf(telemetry.spans())
    expect(span.kind).toBe(SpanKind.SERVER)
    expect(linksOf(span)).toEqual([
      { traceId: ENV_TRACE_ID, spanId: '53995c3f42cd8ad8', sampled: true, source: '_X_AMZN_TRACE_ID' },
      // an HTTP API header has no Parent: the link names the trace only
      { traceId: HTTP_TRACE_ID, spanId: '0000000000000000', sampled: false, source: 'x-amzn-trace-id' },
    ])
    // link mode: the X-Ray trace is not continued
    expect(span.parentSpanContext).toBeUndefined()
    expect(span.spanContext().traceId).not.toBe(ENV_TRACE_ID)
  })

  it('ignores a header whose Root is not X-Ray hex (the docs redacted example)', async () => {
    await httpHandler()(greetRequest({ 'x-amzn-trace-id': 'Root=1-5e6722a7-cc56xmpl46db7ae02d4da47e' }))
    expect(invocationSpanOf(telemetry.spans()).links).toEqual([])
  })

  it('in parent mode continues the invocation X-Ray context when no W3C traceparent came', async () => {
    vi.stubEnv('_X_AMZN_TRACE_ID', ENV_HEADER)
    await httpHandler({ xrayContext: 'parent' })(
      greetRequest({ 'x-amzn-trace-id': HTTP_HEADER }),
      lambdaContext(),
    )
    const span = invocationSpanOf(telemetry.spans())
    expect(span.spanContext().traceId).toBe(ENV_TRACE_ID)
    expect(span.parentSpanContext).toMatchObject({ traceId: ENV_TRACE_ID, spanId: '53995c3f42cd8ad8' })
    expect(linksOf(span).map((link) => link.source)).toEqual(['x-amzn-trace-id'])
  })

  it('OTEL_PROPAGATORS listing xray-lambda selects parent mode', async () => {
    vi.stubEnv('OTEL_PROPAGATORS', 'tracecontext,baggage,xray-lambda')
    vi.stubEnv('_X_AMZN_TRACE_ID', ENV_HEADER)
    await httpHandler()(greetRequest(), lambdaContext())
    expect(invocationSpanOf(telemetry.spans()).spanContext().traceId).toBe(ENV_TRACE_ID)
  })

  it('continues a W3C traceparent before any X-Ray context, which stays linked', async () => {
    vi.stubEnv('_X_AMZN_TRACE_ID', ENV_HEADER)
    const request = greetRequest({ traceparent: W3C_TRACEPARENT, 'x-amzn-trace-id': HTTP_HEADER })
    await httpHandler({ xrayContext: 'parent' })(request, lambdaContext())
    const span = invocationSpanOf(telemetry.spans())
    expect(span.parentSpanContext).toMatchObject({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
    })
    expect(linksOf(span).map((link) => link.traceId)).toEqual([ENV_TRACE_ID, HTTP_TRACE_ID])
  })

  it('under an outer Lambda instrumentation, is a child of its active span', async () => {
    const handler = httpHandler()
    const outer = trace.getTracer('outer-instrumentation').startSpan('outer invocation')
    await context.with(trace.setSpan(context.active(), outer), () =>
      handler(greetRequest({ traceparent: W3C_TRACEPARENT }), lambdaContext()),
    )
    outer.end()
    expect(invocationSpanOf(telemetry.spans()).parentSpanContext?.spanId).toBe(outer.spanContext().spanId)
  })

  it("is the parent of the gateway's HTTP span, under which the engine's spans hang", async () => {
    await httpHandler()(greetRequest({ traceparent: W3C_TRACEPARENT }), lambdaContext())
    const spans = telemetry.spans()
    const invocation = invocationSpanOf(spans)
    const traceIds = new Set(spans.map((span) => span.spanContext().traceId))
    expect(traceIds).toEqual(new Set(['0af7651916cd43dd8448eb211c80319c']))
    const [httpSpan, ...others] = childrenOf(spans, invocation)
    expect(others).toEqual([])
    expect(httpSpan).toMatchObject({ kind: SpanKind.SERVER })
    // every other span descends from the invocation's child
    const descends = (span: ReadableSpan): boolean =>
      span === httpSpan ||
      spans.some(
        (parent) => parent.spanContext().spanId === span.parentSpanContext?.spanId && descends(parent),
      )
    expect(spans.filter((span) => span !== invocation && !descends(span))).toEqual([])
  })

  it('is the parent of the gateway span without a context manager too (the request names it)', async () => {
    const handler = httpHandler()
    context.disable() // no async context: only the request's traceparent can carry the parent
    try {
      await handler(greetRequest({ traceparent: W3C_TRACEPARENT }), lambdaContext())
    } finally {
      context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
    }
    const spans = telemetry.spans()
    const httpSpan = spans.find((span) => span.name === 'POST /api/v1/greeter/greet')
    expect(httpSpan?.parentSpanContext?.spanId).toBe(invocationSpanOf(spans).spanContext().spanId)
  })

  it("an SQS batch: a CONSUMER span linked to each record's AWSTraceHeader, parent of bare records' spans", async () => {
    const result = await eventHandler()(fixture<SQSEvent>('sqs-traced'), lambdaContext())
    expect(result.batchItemFailures).toEqual([])
    const spans = telemetry.spans()
    const batch = invocationSpanOf(spans)
    expect(batch).toMatchObject({ kind: SpanKind.CONSUMER, name: 'process greeter-visitors' })
    expect(linksOf(batch)).toEqual([
      { traceId: ENV_TRACE_ID, spanId: '53995c3f42cd8ad8', sampled: true, source: 'AWSTraceHeader' },
      {
        traceId: '67891233abcdef012345678912345678',
        spanId: '0123456789abcdef',
        sampled: false,
        source: 'AWSTraceHeader',
      },
    ])
    const processSpans = spans.filter((span) => span.kind === SpanKind.CONSUMER && span !== batch)
    expect(processSpans).toHaveLength(3)
    // bare payloads (Ada, Katherine) hang under the batch; the Conduit envelope keeps its producer
    const underBatch = processSpans.filter(
      (span) => span.parentSpanContext?.spanId === batch.spanContext().spanId,
    )
    expect(underBatch).toHaveLength(2)
    expect(processSpans.filter((span) => !underBatch.includes(span))[0]?.parentSpanContext?.spanId).toBe(
      '00f067aa0ba902b7',
    )
  })

  it('is exported, with the handler metrics, by the time the handler promise resolves', async () => {
    // batch span processor and periodic reader with 10-minute intervals: only a flush exports
    await httpHandler()(greetRequest(), lambdaContext())
    expect(telemetry.spans().length).toBeGreaterThanOrEqual(4)
    expect(telemetry.metricNames()).toContain(GREETINGS_METRIC)
    await telemetry.reset()
    await eventHandler()(fixture<SQSEvent>('sqs-traced'), lambdaContext())
    expect(invocationSpanOf(telemetry.spans()).name).toBe('process greeter-visitors')
    expect(telemetry.metricNames()).toContain(GREETINGS_METRIC)
  })

  it('is exported even when the invocation throws, with the error recorded', async () => {
    const handler = eventHandler()
    await expect(
      handler({ Records: [{ eventSource: 'aws:kinesis' }] } as never, lambdaContext()),
    ).rejects.toThrow(/not an SQS, SNS or EventBridge event/)
    const span = invocationSpanOf(telemetry.spans())
    expect(span.status.code).toBe(2) // ERROR
    expect(span.attributes['error.type']).toBe('TypeError')
  })
})
