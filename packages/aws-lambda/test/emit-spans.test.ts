import { createService, defineService, type EventBridge, handleSubscription } from '@conduit/core'
import type { Transport } from '@conduit/core/transport'
import { createNatsTransport, NatsBridge } from '@conduit/nats'
import { NatsAdmin, uniquePrefix } from '@conduit/nats/testing'
import { SpanKind } from '@opentelemetry/api'
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { ATTR_MESSAGING_DESTINATION_NAME } from '@opentelemetry/semantic-conventions/incubating'
import type { APIGatewayProxyEventV2, SQSEvent } from 'aws-lambda'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  createEventBusTransport,
  createEventHandler,
  createHttpHandler,
  type PutEventsEntry,
} from '../src/index.js'
import { greeted, greeterService } from './support/greeter.js'
import { fixture, lambdaContext } from './support/lambda.js'
import { installTelemetry, type Telemetry } from './support/telemetry.js'

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222'

function greetRequest(name: string): APIGatewayProxyEventV2 {
  const event = fixture<APIGatewayProxyEventV2>('api-gateway-v2')
  event.rawPath = '/api/v1/greeter/greet'
  event.requestContext.http.path = event.rawPath
  event.body = JSON.stringify({ name })
  delete event.headers['content-length']
  return event
}

/** The spans of sending `greeter.greeted`: the engine makes one per emit, whatever the transport. */
const emitSpans = (spans: ReadableSpan[]) =>
  spans.filter(
    (span) =>
      span.kind === SpanKind.PRODUCER && span.attributes[ATTR_MESSAGING_DESTINATION_NAME] === greeted.name,
  )
const spanIdOf = (traceparent: string | undefined) => traceparent?.split('-')[2]

describe('one span per emit from a function', { timeout: 20_000 }, () => {
  let telemetry: Telemetry
  const closers: (() => Promise<void>)[] = []
  const handlers = (outgoing?: Transport) => {
    const http = createHttpHandler(greeterService, {
      closeOnSigterm: false,
      ...(outgoing ? { outgoing } : {}),
    })
    const events = createEventHandler(http.runtime)
    closers.push(() => http.close())
    return { http, events }
  }

  beforeAll(() => {
    telemetry = installTelemetry()
  })
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((close) => close()))
    await telemetry.reset()
  })
  afterAll(() => telemetry.close())

  it('an HTTP-invoked command and each record of an SQS batch: one producer span per emit', async () => {
    const { http, events } = handlers()
    expect((await http(greetRequest('Ada'), lambdaContext())).statusCode).toBe(200)
    expect(emitSpans(telemetry.spans())).toHaveLength(1)
    await telemetry.reset()

    expect(await events(fixture<SQSEvent>('sqs-traced'), lambdaContext())).toEqual({ batchItemFailures: [] })
    const spans = telemetry.spans()
    const emits = emitSpans(spans)
    expect(emits).toHaveLength(3)
    // each under the span of the record whose handler emitted it
    const parents = new Set(emits.map((span) => span.parentSpanContext?.spanId))
    const processSpanIds = spans
      .filter((span) => span.kind === SpanKind.CONSUMER && span.attributes['faas.trigger'] === undefined)
      .map((span) => span.spanContext().spanId)
    expect([...parents].sort()).toEqual([...processSpanIds].sort())
  })

  it('on the EventBridge bus transport: one span, and the entry carries its context', async () => {
    const entries: PutEventsEntry[] = []
    const outgoing = createEventBusTransport({
      eventBusName: 'conduit',
      putEvents: async (batch) => {
        entries.push(...batch)
        return { FailedEntryCount: 0 }
      },
    })
    const { http } = handlers(outgoing)
    expect((await http(greetRequest('Grace'), lambdaContext())).statusCode).toBe(200)
    const [emit, ...more] = emitSpans(telemetry.spans())
    expect(more).toEqual([])
    expect(entries).toHaveLength(1)
    expect(spanIdOf(JSON.parse(entries[0]!.Detail).traceparent)).toBe(emit?.spanContext().spanId)
  })

  describe('over NATS', () => {
    const prefix = uniquePrefix('lambda-spans')
    const received: (string | undefined)[] = []
    let broker: EventBridge
    let admin: NatsAdmin

    beforeAll(async () => {
      admin = await NatsAdmin.connect(NATS_URL)
      broker = new NatsBridge({ servers: NATS_URL, prefix, drainTimeout: 2_000 })
      await broker.start()
      const observerV1 = defineService({ name: 'observer', version: '1' })
      const seeGreetings = observerV1.subscription('seeGreetings', { event: greeted })
      const observer = createService(observerV1, {
        subscriptions: [
          handleSubscription(
            seeGreetings,
            async (_payload, ctx) => void received.push(ctx.message.traceparent),
          ),
        ],
      })
      await (await observer.getInstance(broker)).start()
    })
    afterAll(async () => {
      await broker?.stop()
      await admin?.deleteNamespace(prefix)
      await admin?.close()
    })

    it('one span, and the subscriber on the broker receives its context', async () => {
      const { http } = handlers(createNatsTransport({ servers: NATS_URL, prefix }))
      expect((await http(greetRequest('Katherine'), lambdaContext())).statusCode).toBe(200)
      const [emit, ...more] = emitSpans(telemetry.spans())
      expect(more).toEqual([])
      await expect.poll(() => received.length, { timeout: 5_000 }).toBe(1)
      // the message the broker delivered names that span: no second producer span on the way
      expect(spanIdOf(received[0])).toBe(emit?.spanContext().spanId)
    })
  })
})
