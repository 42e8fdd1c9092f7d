import { context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { DataPointType } from '@opentelemetry/sdk-metrics'
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base'
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_METHOD_ORIGINAL,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_NETWORK_PROTOCOL_VERSION,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_PATH,
  ATTR_URL_SCHEME,
  ATTR_USER_AGENT_ORIGINAL,
  HTTP_REQUEST_METHOD_VALUE_OTHER,
} from '@opentelemetry/semantic-conventions'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type TestGateway } from './support/gateway.js'
import { captureLogs } from './support/logs.js'
import { type RegisteredMeters, registerMeterProvider } from './support/otel.js'

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c'
const CALLER_SPAN_ID = 'b7ad6b7169203331'
const TRACEPARENT = `00-${TRACE_ID}-${CALLER_SPAN_ID}-01`
const TRACESTATE = 'vendor=t61rcWkgMgX,other=ucfJifl5GOE'
const json = { 'content-type': 'application/json' }

// The real SDK, as an application would set it up: a context manager, a tracer provider.
const spans = new InMemorySpanExporter()
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] })
beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  trace.setGlobalTracerProvider(tracerProvider)
})
afterAll(async () => {
  trace.disable()
  context.disable()
  await tracerProvider.shutdown()
})

let gateway: TestGateway | undefined
let meters: RegisteredMeters | undefined
afterEach(async () => {
  await gateway?.stop()
  await meters?.unregister()
  gateway = meters = undefined
  spans.reset()
})

const httpSpans = () =>
  spans
    .getFinishedSpans()
    .filter((span) => span.kind === SpanKind.SERVER && span.instrumentationScope.name === '@conduit/http')
const idOf = (span: ReadableSpan) => span.spanContext().spanId
const parentIdOf = (span: ReadableSpan) => span.parentSpanContext?.spanId

function ancestorsOf(span: ReadableSpan, all: ReadableSpan[]): string[] {
  const byId = new Map(all.map((each) => [idOf(each), each]))
  const chain: string[] = []
  for (let parent = parentIdOf(span); parent !== undefined; parent = parentIdOf(byId.get(parent)!)) {
    chain.push(parent)
    if (!byId.has(parent)) break
  }
  return chain
}

describe('the HTTP server span', () => {
  it('continues the caller’s traceparent, and Conduit’s spans hang under it', async () => {
    let activeDuringAuth: Span | undefined
    gateway = await startTestGateway({
      auth: () => {
        activeDuringAuth = trace.getActiveSpan()
        return { principalId: 'ada' }
      },
    })
    const response = await fetch(gateway.url('/api/v1/user/users'), {
      method: 'POST',
      headers: {
        ...json,
        traceparent: TRACEPARENT,
        tracestate: TRACESTATE,
        'user-agent': 'conduit-test/1.0',
      },
      body: JSON.stringify({ name: 'Ada', email: 'ada@example.org' }),
    })
    expect(response.status).toBe(201)

    const inTrace = () => spans.getFinishedSpans().filter((span) => span.spanContext().traceId === TRACE_ID)
    // the command's own spans: its caller side and its handler side, two levels under the HTTP span
    await expect
      .poll(() => inTrace().filter((span) => ancestorsOf(span, inTrace()).length >= 3).length)
      .toBeGreaterThan(0)
    const [http, ...others] = [httpSpans(), inTrace().filter((span) => !httpSpans().includes(span))].flat()
    expect(httpSpans()).toHaveLength(1)
    expect(http!.name).toBe('POST /api/v1/user/users')
    expect(http!.parentSpanContext).toMatchObject({
      traceId: TRACE_ID,
      spanId: CALLER_SPAN_ID,
      isRemote: true,
    })
    expect(http!.spanContext().traceState?.serialize()).toBe(TRACESTATE)
    expect(http!.attributes).toEqual({
      [ATTR_HTTP_REQUEST_METHOD]: 'POST',
      [ATTR_HTTP_ROUTE]: '/api/v1/user/users',
      [ATTR_URL_PATH]: '/api/v1/user/users',
      [ATTR_URL_SCHEME]: 'http',
      [ATTR_SERVER_ADDRESS]: '127.0.0.1',
      [ATTR_SERVER_PORT]: gateway.served.port,
      [ATTR_USER_AGENT_ORIGINAL]: 'conduit-test/1.0',
      [ATTR_NETWORK_PROTOCOL_VERSION]: '1.1',
      [ATTR_HTTP_RESPONSE_STATUS_CODE]: 201,
    })
    expect(http!.status.code).toBe(SpanStatusCode.UNSET)
    // the request ran inside the span: the auth hook saw it active
    expect(activeDuringAuth?.spanContext().spanId).toBe(idOf(http!))
    // every other span of the trace descends from the HTTP span
    expect(others.length).toBeGreaterThanOrEqual(2)
    for (const span of others) expect(ancestorsOf(span, inTrace())).toContain(idOf(http!))
    expect(others.filter((span) => parentIdOf(span) === idOf(http!)).length).toBeGreaterThan(0)
  })

  it('a 401 and a malformed JSON body each make a span, a log line and a metric point', async () => {
    const logs = captureLogs('info')
    gateway = await startTestGateway({ logger: logs.logger })
    meters = registerMeterProvider() // after the gateway was built
    const unauthorized = await fetch(gateway.url('/api/v1/user/users'), {
      method: 'POST',
      headers: { ...json, traceparent: TRACEPARENT },
      body: JSON.stringify({ name: 'Ada', email: 'ada@example.org' }),
    })
    expect(unauthorized.status).toBe(401)
    const malformed = await fetch(gateway.url('/api/v1/user/echo'), {
      method: 'PUT',
      headers: json,
      body: '{"text":',
    })
    expect(malformed.status).toBe(400)

    const [denied, refused] = httpSpans()
    expect(
      [denied, refused].map((span) => [span?.name, span?.attributes[ATTR_HTTP_RESPONSE_STATUS_CODE]]),
    ).toEqual([
      ['POST /api/v1/user/users', 401],
      ['PUT /api/v1/user/echo', 400],
    ])
    for (const span of [denied!, refused!]) {
      // a client error is not the server's: no error status, no error.type
      expect(span.status.code).toBe(SpanStatusCode.UNSET)
      expect(span.attributes[ATTR_ERROR_TYPE]).toBeUndefined()
      // nothing was invoked
      expect(spans.getFinishedSpans().filter((other) => parentIdOf(other) === idOf(span))).toEqual([])
    }
    expect(denied!.spanContext().traceId).toBe(TRACE_ID)

    expect(logs.accessLines().map(({ status, traceId, spanId }) => ({ status, traceId, spanId }))).toEqual([
      { status: 401, traceId: TRACE_ID, spanId: idOf(denied!) },
      { status: 400, traceId: refused!.spanContext().traceId, spanId: idOf(refused!) },
    ])

    const duration = await meters.requestDuration()
    expect(duration?.dataPoints.map((point) => [point.attributes, point.value.count])).toEqual([
      [
        {
          [ATTR_HTTP_REQUEST_METHOD]: 'POST',
          [ATTR_URL_SCHEME]: 'http',
          [ATTR_HTTP_RESPONSE_STATUS_CODE]: 401,
          [ATTR_HTTP_ROUTE]: '/api/v1/user/users',
        },
        1,
      ],
      [
        {
          [ATTR_HTTP_REQUEST_METHOD]: 'PUT',
          [ATTR_URL_SCHEME]: 'http',
          [ATTR_HTTP_RESPONSE_STATUS_CODE]: 400,
          [ATTR_HTTP_ROUTE]: '/api/v1/user/echo',
        },
        1,
      ],
    ])
  })
})

describe('http.server.request.duration', () => {
  it('records seconds with the outcome after 200, 400, 404 and 500, from a MeterProvider registered late', async () => {
    gateway = await startTestGateway()
    const put = (body: string) =>
      fetch(gateway!.url('/api/v1/user/echo'), { method: 'PUT', headers: json, body })
    expect((await put('{"text":"before any MeterProvider"}')).status).toBe(200)
    meters = registerMeterProvider()

    expect((await put('{"text":"hello"}')).status).toBe(200)
    expect((await put('{"text":42}')).status).toBe(400)
    expect((await fetch(gateway.url('/api/v1/user/users/u-404'))).status).toBe(404)
    expect((await fetch(gateway.url('/nowhere'))).status).toBe(404)
    expect((await fetch(gateway.url('/api/v1/user/crash'), { method: 'POST' })).status).toBe(500)
    expect((await fetch(gateway.url('/nowhere'), { method: 'PROPFIND' })).status).toBe(404)

    const duration = await meters.requestDuration()
    expect(duration?.descriptor).toMatchObject({
      unit: 's',
      description: 'Duration of HTTP server requests.',
    })
    expect(duration?.dataPointType).toBe(DataPointType.HISTOGRAM)
    const base = { [ATTR_URL_SCHEME]: 'http' }
    expect(duration?.dataPoints.map((point) => point.attributes)).toEqual([
      {
        ...base,
        [ATTR_HTTP_REQUEST_METHOD]: 'PUT',
        [ATTR_HTTP_ROUTE]: '/api/v1/user/echo',
        [ATTR_HTTP_RESPONSE_STATUS_CODE]: 200,
      },
      {
        ...base,
        [ATTR_HTTP_REQUEST_METHOD]: 'PUT',
        [ATTR_HTTP_ROUTE]: '/api/v1/user/echo',
        [ATTR_HTTP_RESPONSE_STATUS_CODE]: 400,
      },
      {
        ...base,
        [ATTR_HTTP_REQUEST_METHOD]: 'GET',
        [ATTR_HTTP_ROUTE]: '/api/v1/user/users/:userId',
        [ATTR_HTTP_RESPONSE_STATUS_CODE]: 404,
      },
      { ...base, [ATTR_HTTP_REQUEST_METHOD]: 'GET', [ATTR_HTTP_RESPONSE_STATUS_CODE]: 404 },
      {
        ...base,
        [ATTR_HTTP_REQUEST_METHOD]: 'POST',
        [ATTR_HTTP_ROUTE]: '/api/v1/user/crash',
        [ATTR_HTTP_RESPONSE_STATUS_CODE]: 500,
        [ATTR_ERROR_TYPE]: '500',
      },
      {
        ...base,
        [ATTR_HTTP_REQUEST_METHOD]: HTTP_REQUEST_METHOD_VALUE_OTHER,
        [ATTR_HTTP_RESPONSE_STATUS_CODE]: 404,
      },
    ])
    for (const point of duration!.dataPoints) {
      expect(point.value.count).toBe(1)
      // seconds: a local call takes well under one
      expect(point.value.sum).toBeGreaterThan(0)
      expect(point.value.sum).toBeLessThan(1)
    }

    const named = (name: string) => httpSpans().filter((span) => span.name === name)
    const [crashed] = named('POST /api/v1/user/crash')
    expect(crashed?.status.code).toBe(SpanStatusCode.ERROR)
    expect(crashed?.attributes[ATTR_ERROR_TYPE]).toBe('500')
    expect(crashed?.events.map((event) => event.name)).toContain('exception')
    // no route matched: the span is named after the method alone, `HTTP` for one the conventions do not know
    expect(named('GET').map((span) => span.attributes[ATTR_URL_PATH])).toEqual(['/nowhere'])
    const [other] = named('HTTP')
    expect(other?.attributes).toMatchObject({
      [ATTR_HTTP_REQUEST_METHOD]: HTTP_REQUEST_METHOD_VALUE_OTHER,
      [ATTR_HTTP_REQUEST_METHOD_ORIGINAL]: 'PROPFIND',
    })
  })
})
