import { context, metrics, SpanKind, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
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
import {
  ATTR_ERROR_TYPE,
  ATTR_MESSAGING_CONSUMER_GROUP_NAME,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_DESTINATION_TEMPLATE,
  ATTR_MESSAGING_MESSAGE_CONVERSATION_ID,
  ATTR_MESSAGING_MESSAGE_ID,
  ATTR_MESSAGING_OPERATION_NAME,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM,
  MESSAGING_OPERATION_TYPE_VALUE_PROCESS,
  MESSAGING_OPERATION_TYPE_VALUE_SEND,
  METRIC_MESSAGING_CLIENT_OPERATION_DURATION,
  METRIC_MESSAGING_PROCESS_DURATION,
} from '@opentelemetry/semantic-conventions/incubating'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import {
  createDefaultLogger,
  createService,
  defineEvent,
  defineService,
  HandledError,
  handleCommand,
  handleSubscription,
  MemoryBridge,
} from '../src/index.js'
import { isTracingActive } from '../src/observability/tracing.js'

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
const pricingV1 = defineService({ name: 'pricing', version: '1' })
const quote = pricingV1.command('quote', {
  input: z.object({}).strict(),
  output: z.object({ price: z.number() }),
})
const checkoutV1 = defineService({ name: 'checkout', version: '1' })
const checkoutCart = checkoutV1.command('checkoutCart', {
  input: z.object({}),
  output: z.object({ total: z.number() }),
  invokes: [quote],
})

describe('with an OpenTelemetry SDK registered', () => {
  beforeAll(() => {
    // what the OpenTelemetry Node SDK registers: the active context follows async calls
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
    trace.setGlobalTracerProvider(
      new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }),
    )
    metrics.setGlobalMeterProvider(new MeterProvider({ readers: [metricReader] }))
  })
  afterAll(() => {
    trace.disable()
    metrics.disable()
    context.disable()
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

    const finished = spans.getFinishedSpans()
    expect(finished.map((span) => span.name)).not.toContain('conduit.probe')
    const byKind = (kind: SpanKind) => finished.filter((span) => span.kind === kind)
    const named = (kind: SpanKind, name: string) => byKind(kind).find((span) => span.name === name)
    const send = named(SpanKind.PRODUCER, 'send shop.v1.placeOrder')
    const handle = named(SpanKind.CONSUMER, 'process shop.v1.placeOrder')
    const publish = named(SpanKind.PRODUCER, 'send shop.order.placed')
    const consume = named(SpanKind.CONSUMER, 'process shop.order.placed')
    expect([send, handle, publish, consume].map((span) => span?.name)).toEqual([
      'send shop.v1.placeOrder',
      'process shop.v1.placeOrder',
      'send shop.order.placed',
      'process shop.order.placed',
    ])
    expect(byKind(SpanKind.SERVER)).toEqual([])
    const parentOf = (span: ReadableSpan | undefined) => span?.parentSpanContext?.spanId
    expect(parentOf(handle)).toBe(send!.spanContext().spanId)
    expect(parentOf(publish)).toBe(handle!.spanContext().spanId)
    expect(parentOf(consume)).toBe(publish!.spanContext().spanId)
    expect(new Set([send, handle, publish, consume].map((span) => span!.spanContext().traceId)).size).toBe(1)
    expect(consume!.attributes).toMatchObject({
      [ATTR_MESSAGING_SYSTEM]: 'memory',
      [ATTR_MESSAGING_OPERATION_TYPE]: MESSAGING_OPERATION_TYPE_VALUE_PROCESS,
      [ATTR_MESSAGING_OPERATION_NAME]: 'process',
      [ATTR_MESSAGING_DESTINATION_NAME]: 'shop.order.placed',
      [ATTR_MESSAGING_CONSUMER_GROUP_NAME]: 'fulfilment.v1.onOrderPlaced',
    })
    expect(send!.attributes).toMatchObject({
      [ATTR_MESSAGING_OPERATION_TYPE]: MESSAGING_OPERATION_TYPE_VALUE_SEND,
      [ATTR_MESSAGING_OPERATION_NAME]: 'send',
      [ATTR_MESSAGING_DESTINATION_TEMPLATE]: 'shop.v1.placeOrder',
    })
    // the conversation is the correlation id, the same on every span of the call chain
    const conversation = send!.attributes[ATTR_MESSAGING_MESSAGE_CONVERSATION_ID]
    expect(typeof conversation).toBe('string')
    for (const span of [handle, publish, consume]) {
      expect(span!.attributes[ATTR_MESSAGING_MESSAGE_CONVERSATION_ID]).toBe(conversation)
      expect(typeof span!.attributes[ATTR_MESSAGING_MESSAGE_ID]).toBe('string')
    }
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
    const durations = pointsOf(METRIC_MESSAGING_PROCESS_DURATION).filter(
      (point) => point.attributes['conduit.handler'] === 'shop.v1.placeOrder',
    )
    const outcomes = durations.map((point) => point.attributes[ATTR_ERROR_TYPE] ?? 'ok').sort()
    // the handler threw a plain Error: its type is the outcome on the handling side
    expect(outcomes).toEqual(['Error', 'ok'])
    expect(named(METRIC_MESSAGING_PROCESS_DURATION)[0]?.descriptor.unit).toBe('s')
    expect(forPlaceOrder('conduit.handler.in_flight')).toBe(0)
  })

  it('runs handlers inside their span: child spans, instrumented calls and nested invokes hang under it', async () => {
    spans.reset()
    const lines: Record<string, unknown>[] = []
    const logger = createDefaultLogger(
      {},
      { level: 'info', destination: { write: (line) => void lines.push(JSON.parse(line)) } },
    )
    const bridge = new MemoryBridge({ logger })
    await bridge.start()
    let activeInHandler: string | undefined
    let handlerSpanId: string | undefined
    const shop = createService(pricingV1, {
      commands: [handleCommand(quote, () => ({ price: 42 }))],
    })
    const checkout = createService(checkoutV1, {
      commands: [
        handleCommand(checkoutCart, async (_input, ctx) => {
          activeInHandler = trace.getActiveSpan()?.spanContext().spanId
          handlerSpanId = ctx.span.spanContext().spanId
          ctx.logger.info('checking out')
          return ctx.startActiveSpan('price the cart', async () => {
            // what an auto-instrumented HTTP or database client does: a span in the active context
            trace.getTracer('instrumented-db').startSpan('SELECT carts').end()
            return { total: (await ctx.invoke(quote, {})).price }
          })
        }),
      ],
    })
    await (await shop.getInstance(bridge)).start()
    await (await checkout.getInstance(bridge)).start()
    expect(await bridge.invoke(checkoutCart, {})).toEqual({ total: 42 })
    await bridge.stop()

    expect(activeInHandler).toBe(handlerSpanId)
    expect(lines.find((line) => line.msg === 'checking out')?.spanId).toBe(handlerSpanId)
    const finished = spans.getFinishedSpans()
    const byName = (name: string) => finished.find((span) => span.name === name)
    const handler = byName('process checkout.v1.checkoutCart')!
    const child = byName('price the cart')!
    expect(child.parentSpanContext?.spanId).toBe(handler.spanContext().spanId)
    expect(byName('SELECT carts')!.parentSpanContext?.spanId).toBe(child.spanContext().spanId)
    expect(byName('send pricing.v1.quote')!.parentSpanContext?.spanId).toBe(child.spanContext().spanId)
    expect(child.instrumentationScope.name).toBe('checkout')
  })

  it('records caller durations in seconds with the outcome: ok, 400, 404, 500 and a timeout', async () => {
    await metricReader.forceFlush()
    metricExporter.reset()
    const bridge = new MemoryBridge()
    await bridge.start()
    const shop = createService(pricingV1, {
      commands: [
        handleCommand(quote, async (_input, ctx) => {
          const kind = ctx.message.correlationId
          if (kind === 'missing') throw new HandledError(404, 'no such product')
          if (kind === 'broken') throw new Error('boom')
          if (kind === 'slow') await new Promise((resolve) => setTimeout(resolve, 200))
          return kind === 'invalid'
            ? ({ price: 'not a number' } as unknown as { price: number })
            : { price: 1 }
        }),
      ],
    })
    await (await shop.getInstance(bridge)).start()
    for (const correlationId of ['ok', 'missing', 'broken', 'invalid', 'slow']) {
      await bridge.invoke(quote, {}, { correlationId, timeout: 50 }).catch(() => undefined)
    }
    await bridge.invoke(quote, { bad: true } as never).catch(() => undefined)
    await bridge.stop()
    await metricReader.forceFlush()
    const exported = metricExporter.getMetrics().flatMap((r) => r.scopeMetrics.flatMap((m) => m.metrics))
    const points = (name: string) =>
      exported
        .filter((metric) => metric.descriptor.name === name)
        .flatMap((metric) => metric.dataPoints as { attributes: Record<string, unknown>; value: unknown }[])
    const calls = points(METRIC_MESSAGING_CLIENT_OPERATION_DURATION).filter(
      (point) => point.attributes[ATTR_MESSAGING_DESTINATION_TEMPLATE] === 'pricing.v1.quote',
    )
    const outcomes = calls.map((point) => point.attributes[ATTR_ERROR_TYPE] ?? 'ok').sort()
    expect(outcomes).toEqual(['INTERNAL', 'NOT_FOUND', 'TIMEOUT', 'VALIDATION_FAILED', 'ok'])
    const invalid = calls.find((point) => point.attributes[ATTR_ERROR_TYPE] === 'VALIDATION_FAILED')
    expect((invalid!.value as { count: number }).count).toBe(2) // bad input, and bad output
    expect(calls.every((point) => point.attributes[ATTR_MESSAGING_OPERATION_NAME] === 'send')).toBe(true)
    const seconds = calls.find((point) => point.attributes[ATTR_ERROR_TYPE] === 'TIMEOUT')!.value as {
      sum: number
    }
    expect(seconds.sum).toBeGreaterThan(0.04)
    expect(seconds.sum).toBeLessThan(5)
    expect(points('conduit.invoke.timeouts').map((point) => point.value)).toEqual([1])
  })
})

describe('without an OpenTelemetry SDK (or with one registered late)', () => {
  it('a MeterProvider registered after the bridge started still gets the bridge’s metrics', async () => {
    const bridge = new MemoryBridge()
    await bridge.start()
    await (
      await createService(pricingV1, { commands: [handleCommand(quote, () => ({ price: 1 }))] }).getInstance(
        bridge,
      )
    ).start()
    await bridge.invoke(quote, {})
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 })
    metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }))
    try {
      await bridge.invoke(quote, {})
      await reader.forceFlush()
      const names = exporter
        .getMetrics()
        .flatMap((r) => r.scopeMetrics.flatMap((m) => m.metrics.map((metric) => metric.descriptor.name)))
      expect(names).toContain(METRIC_MESSAGING_CLIENT_OPERATION_DURATION)
      expect(names).toContain(METRIC_MESSAGING_PROCESS_DURATION)
      expect(names).toContain('conduit.bridge.ready')
    } finally {
      metrics.disable()
      await bridge.stop()
    }
  })

  it('takes no span path without an SDK, even for calls that carry a traceparent', async () => {
    const bridge = new MemoryBridge()
    await bridge.start()
    await (
      await createService(pricingV1, { commands: [handleCommand(quote, () => ({ price: 1 }))] }).getInstance(
        bridge,
      )
    ).start()
    await bridge.invoke(quote, {}, { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' })
    expect(isTracingActive()).toBe(false)
    await bridge.stop()
  })

  it('messages still carry random W3C trace ids, not a per-process prefix and a counter', async () => {
    const seen: string[] = []
    const bridge = new MemoryBridge()
    await bridge.start()
    await (
      await createService(pricingV1, {
        commands: [
          handleCommand(quote, (_input, ctx) => {
            seen.push(ctx.message.traceparent!)
            return { price: 1 }
          }),
        ],
      }).getInstance(bridge)
    ).start()
    for (let call = 0; call < 3; call++) await bridge.invoke(quote, {})
    await bridge.stop()
    for (const traceparent of seen) expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/)
    const traceIds = seen.map((traceparent) => traceparent.slice(3, 35))
    // random ids share no long prefix (the old scheme shared the first 16 hex digits)
    expect(new Set(traceIds.map((id) => id.slice(0, 8))).size).toBe(3)
  })

  it('every log line of a nested call chain carries the same correlation id', async () => {
    const lines: Record<string, unknown>[] = []
    const destination = { write: (line: string) => void lines.push(JSON.parse(line)) }
    const logger = createDefaultLogger({}, { level: 'info', destination })
    const bridge = new MemoryBridge({ logger })
    await bridge.start()
    const pricing = createService(pricingV1, {
      commands: [
        handleCommand(quote, (_input, ctx) => {
          ctx.logger.info('quoting')
          return { price: 42 }
        }),
      ],
    })
    const checkout = createService(checkoutV1, {
      commands: [
        handleCommand(checkoutCart, async (_input, ctx) => {
          ctx.logger.info('checking out')
          const { price } = await ctx.invoke(quote, {})
          ctx.logger.info({ price }, 'priced')
          return { total: price }
        }),
      ],
    })
    await (await pricing.getInstance(bridge)).start()
    await (await checkout.getInstance(bridge)).start()
    await bridge.invoke(checkoutCart, {}, { correlationId: 'order-7' })
    await bridge.stop()
    const chain = lines.filter((line) => ['quoting', 'checking out', 'priced'].includes(line.msg as string))
    expect(chain).toHaveLength(3)
    for (const line of chain) {
      expect(line.correlationId).toBe('order-7')
      expect(line.instanceId).toBe(bridge.instanceId)
      expect(typeof line.pid).toBe('number')
      expect(typeof line.hostname).toBe('string')
    }
  })
})

describe('destination names', () => {
  it('a bridge names where a command or event goes without connecting; the memory bridge uses the logical name', () => {
    const bridge = new MemoryBridge()
    expect(
      bridge.destinationName({
        kind: 'command',
        address: { service: 'shop', version: '1', command: 'placeOrder' },
      }),
    ).toBe('shop.v1.placeOrder')
    expect(bridge.destinationName({ kind: 'event', eventName: 'shop.order.placed' })).toBe(
      'shop.order.placed',
    )
  })
})
