import { metrics, SpanKind, trace } from '@opentelemetry/api'
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics'
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import {
  createService,
  defineEvent,
  defineService,
  handleCommand,
  handleSubscription,
  MemoryBridge,
} from '../src/index.js'

const spans = new InMemorySpanExporter()
const metricExporter = new InMemoryMetricExporter(AggregationTemporality.DELTA)
const metricReader = new PeriodicExportingMetricReader({
  exporter: metricExporter,
  exportIntervalMillis: 60_000,
})

const orderPlaced = defineEvent('shop.order.placed', z.object({ orderId: z.string() }))
const shopV1 = defineService({ name: 'shop', version: '1' })
const placeOrder = shopV1.command('placeOrder', {
  input: z.object({ orderId: z.string() }),
  output: z.object({ ok: z.boolean() }),
  emits: [orderPlaced],
})
const fulfilmentV1 = defineService({ name: 'fulfilment', version: '1' })
const onOrderPlaced = fulfilmentV1.subscription('onOrderPlaced', { event: orderPlaced })

describe('with an OpenTelemetry SDK registered', () => {
  beforeAll(() => {
    trace.setGlobalTracerProvider(
      new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }),
    )
    metrics.setGlobalMeterProvider(new MeterProvider({ readers: [metricReader] }))
  })
  afterAll(() => {
    trace.disable()
    metrics.disable()
  })

  it('records one span per invoke, handle, emit and consume, linked into one trace with messaging attributes', async () => {
    let consumed = 0
    const bridge = new MemoryBridge()
    await bridge.start()
    const shop = createService(shopV1, {
      commands: [
        handleCommand(placeOrder, async (input, ctx) => {
          await ctx.emit('shop.order.placed', input)
          return { ok: true }
        }),
      ],
    })
    const fulfilment = createService(fulfilmentV1, {
      subscriptions: [handleSubscription(onOrderPlaced, () => void consumed++)],
    })
    await (await shop.getInstance(bridge)).start()
    await (await fulfilment.getInstance(bridge)).start()
    await bridge.invoke(placeOrder, { orderId: 'o-1' })
    await expect.poll(() => consumed).toBe(1)
    await bridge.stop()

    const finished = spans.getFinishedSpans().filter((span) => span.name !== 'conduit.probe')
    const byKind = (kind: SpanKind) => finished.filter((span) => span.kind === kind)
    const [send] = byKind(SpanKind.CLIENT)
    const [handle] = byKind(SpanKind.SERVER)
    const [publish] = byKind(SpanKind.PRODUCER)
    const [consume] = byKind(SpanKind.CONSUMER)
    expect([send, handle, publish, consume].map((span) => span?.name)).toEqual([
      'send shop.v1.placeOrder',
      'process shop.v1.placeOrder',
      'publish shop.order.placed',
      'process shop.order.placed',
    ])
    const parentOf = (span: ReadableSpan | undefined) => span?.parentSpanContext?.spanId
    expect(parentOf(handle)).toBe(send!.spanContext().spanId)
    expect(parentOf(publish)).toBe(handle!.spanContext().spanId)
    expect(parentOf(consume)).toBe(publish!.spanContext().spanId)
    expect(new Set([send, handle, publish, consume].map((span) => span!.spanContext().traceId)).size).toBe(1)
    expect(consume!.attributes).toMatchObject({
      'messaging.system': 'memory',
      'messaging.operation.type': 'process',
      'messaging.destination.name': 'shop.order.placed',
      'messaging.consumer.group.name': 'fulfilment.v1.onOrderPlaced',
    })
  })

  it('records handler durations, errors and in-flight counts per command and subscription', async () => {
    await metricReader.forceFlush() // what earlier tests recorded goes out first
    metricExporter.reset()
    const bridge = new MemoryBridge()
    await bridge.start()
    const shop = createService(shopV1, {
      commands: [
        handleCommand(placeOrder, ({ orderId }) => {
          if (orderId === 'bad') throw new Error('boom')
          return { ok: true }
        }),
      ],
    })
    await (await shop.getInstance(bridge)).start()
    await bridge.invoke(placeOrder, { orderId: 'o-2' })
    await bridge.invoke(placeOrder, { orderId: 'bad' }).catch(() => undefined)
    await bridge.stop()
    await metricReader.forceFlush()
    const exported = metricExporter
      .getMetrics()
      .flatMap((resource) => resource.scopeMetrics.flatMap((s) => s.metrics))
    const named = (name: string) => exported.filter((metric) => metric.descriptor.name === name)
    const pointsOf = (name: string) =>
      named(name).flatMap(
        (metric) => metric.dataPoints as { attributes: Record<string, unknown>; value: unknown }[],
      )
    const forPlaceOrder = (name: string) =>
      pointsOf(name).find((point) => point.attributes['conduit.handler'] === 'shop.v1.placeOrder')?.value
    expect((forPlaceOrder('conduit.handler.duration') as { count: number }).count).toBe(2)
    expect(forPlaceOrder('conduit.handler.errors')).toBe(1)
    expect(named('conduit.handler.in_flight').length).toBe(1)
  })
})
