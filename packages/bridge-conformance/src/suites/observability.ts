import { metrics, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
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
  MESSAGING_SYSTEM_VALUE_RABBITMQ,
  METRIC_MESSAGING_CLIENT_OPERATION_DURATION,
  METRIC_MESSAGING_PROCESS_DURATION,
} from '@opentelemetry/semantic-conventions/incubating'
import { expect } from 'vitest'
import { auditService, timingService, traceAndEmit, traced } from '../fixtures/observed.js'
import { bytesOf, commandEnvelope, eventEnvelope } from '../fixtures/wire.js'
import type { ConformanceWorld } from '../world.js'
import { malformedCommands, malformedEvents, POLL } from './evidence.js'
import type { WorldTest } from './types.js'

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
const TRACESTATE = 'conduit=t61rcWkgMgX,congo=ucfJifl5GOE'
const TRACE_ADDRESS = { service: 'cftiming', version: '1', command: traceAndEmit.name }
const AUDITED = 'cfaudit.onTraced'
/** the subscription's consumer group, as spans and metrics name it */
const AUDIT_GROUP = 'cfaudit.v1.onTraced'

const audited = (world: ConformanceWorld) =>
  world.probe.of(AUDITED).map((call) => call.input as { id: number; note: string; tracestate?: string })

/** One caller, the command's service and a subscriber, each on a bridge of its own ("process"). */
async function tracedWorld(world: ConformanceWorld) {
  await world.run(timingService(world.probe, 'A'), await world.bridge())
  await world.run(auditService(world.probe, 'S'), await world.bridge())
  return world.bridge()
}

/** Every log line of the run as text, whatever field a value sits in. */
const logText = (world: ConformanceWorld) => world.logs.map((entry) => JSON.stringify(entry))

export function observabilityTests(test: WorldTest): void {
  test('traceparent and tracestate set by the caller reach the handler and the event it emits', async (world) => {
    const client = await tracedWorld(world)
    const seen = await client.invoke(
      traceAndEmit,
      { id: 1, note: 'traced' },
      { traceparent: TRACEPARENT, tracestate: TRACESTATE },
    )
    expect(seen.tracestate).toBe(TRACESTATE)
    expect(seen.traceparent?.split('-')[1]).toBe(TRACEPARENT.split('-')[1])
    await expect.poll(() => audited(world).length, POLL).toBe(1)
    expect(audited(world)[0]?.tracestate).toBe(TRACESTATE)
    expect(world.probe.of(AUDITED)[0]?.traceparent?.split('-')[1]).toBe(TRACEPARENT.split('-')[1])
  })

  test('no payload in the logs: a secret in payloads never appears in any log line, failures included', async (world) => {
    const secret = `PAYLOAD-SECRET-${Math.random().toString(36).slice(2, 10)}`
    const client = await tracedWorld(world)
    // handled end to end: a command, the event it emits, the subscriber (debug lines included)
    await client.invoke(traceAndEmit, { id: 1, note: secret })
    // a handler that throws, and a subscriber that throws, on a payload holding the secret
    await client.invoke(traceAndEmit, { id: -1, note: secret }).catch(() => undefined)
    await client.emit(traced, { id: -2, note: secret })
    // input that fails validation where the handler runs (sent raw: the caller would refuse it);
    // once its reply is back, whatever the server logged about it is in
    const badInput = commandEnvelope(TRACE_ADDRESS, { id: secret, note: secret })
    await world.namespace.captureReply(TRACE_ADDRESS, bytesOf(badInput), 10_000)
    // unreadable messages whose bytes hold the secret
    const broken = new TextEncoder().encode(`{"type":"command","payload":"${secret}"`)
    await world.namespace.injectRawCommand(TRACE_ADDRESS, broken)
    await world.namespace.injectRawEvent(traced.name, new TextEncoder().encode(`${secret}{"payload":`))
    await world.namespace.injectRawEvent(traced.name, bytesOf(eventEnvelope(traced.name, { id: secret })))
    await expect.poll(() => malformedCommands(world).length, POLL).toBeGreaterThanOrEqual(1)
    await expect.poll(() => malformedEvents(world).length, POLL).toBeGreaterThanOrEqual(1)
    await expect
      .poll(() => audited(world).map((event) => event.id), POLL)
      .toEqual(expect.arrayContaining([1, -2]))
    // the subscriber's own failure and the event that failed its schema were both logged
    await expect.poll(() => world.logged(/subscription failed/).length, POLL).toBeGreaterThanOrEqual(2)
    expect(world.logged(/unhandled error/)).toHaveLength(1)
    const leaks = logText(world).filter((line) => line.includes(secret))
    expect(leaks, 'log lines that carry a payload').toEqual([])
  })

  test('spans and metrics for commands and events, linked across processes', async (world) => {
    const spans = new InMemorySpanExporter()
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 })
    const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] })
    const meterProvider = new MeterProvider({ readers: [reader] })
    // registered before any bridge exists: each bridge takes its meter when it is created
    trace.setGlobalTracerProvider(tracerProvider)
    metrics.setGlobalMeterProvider(meterProvider)
    try {
      const client = await tracedWorld(world)
      const bridgeName = client.name
      await client.invoke(traceAndEmit, { id: 1, note: 'observed' })
      await client.invoke(traceAndEmit, { id: -1, note: 'fails' }).catch(() => undefined)
      await expect.poll(() => audited(world).length, POLL).toBe(1)
      const command = 'cftiming.v1.traceAndEmit'
      const finished = () => spans.getFinishedSpans()
      // spans are found by their logical destination (the template); the name carries the
      // broker's own destination (a subject, routing key or topic) where the bridge reports it
      const named = (kind: SpanKind, operation: 'send' | 'process', logical: string) =>
        finished().filter(
          (span) =>
            span.kind === kind &&
            span.attributes[ATTR_MESSAGING_DESTINATION_TEMPLATE] === logical &&
            span.name === `${operation} ${span.attributes[ATTR_MESSAGING_DESTINATION_NAME]}`,
        )
      await expect.poll(() => named(SpanKind.CONSUMER, 'process', traced.name).length, POLL).toBe(1)
      expect(finished().map((span) => span.name)).not.toContain('conduit.probe')
      const sends = named(SpanKind.PRODUCER, 'send', command)
      const handles = named(SpanKind.CONSUMER, 'process', command)
      expect(sends).toHaveLength(2)
      expect(handles).toHaveLength(2)
      const [send, handle] = [sends, handles].map((list) =>
        list.find((span) => span.status.code !== SpanStatusCode.ERROR),
      )
      const [publish] = named(SpanKind.PRODUCER, 'send', traced.name)
      const [consume] = named(SpanKind.CONSUMER, 'process', traced.name)
      const parentOf = (span: ReadableSpan | undefined) => span?.parentSpanContext?.spanId
      expect(parentOf(handle)).toBe(send!.spanContext().spanId)
      expect(parentOf(publish)).toBe(handle!.spanContext().spanId)
      expect(parentOf(consume)).toBe(publish!.spanContext().spanId)
      expect(new Set([send, handle, publish, consume].map((span) => span!.spanContext().traceId)).size).toBe(
        1,
      )
      const system = bridgeName === 'amqp' ? MESSAGING_SYSTEM_VALUE_RABBITMQ : bridgeName
      for (const span of [send, handle, publish, consume]) {
        expect(span!.attributes[ATTR_MESSAGING_SYSTEM]).toBe(system)
        expect(span!.attributes[ATTR_MESSAGING_OPERATION_NAME]).toBe(
          span === send || span === publish ? 'send' : 'process',
        )
        expect(span!.attributes[ATTR_MESSAGING_OPERATION_TYPE]).toBe(
          span === send || span === publish ? 'send' : 'process',
        )
        expect(typeof span!.attributes[ATTR_MESSAGING_MESSAGE_ID]).toBe('string')
      }
      // one conversation: the correlation id, on the call and on the event it caused
      const conversation = send!.attributes[ATTR_MESSAGING_MESSAGE_CONVERSATION_ID]
      for (const span of [handle, publish, consume])
        expect(span!.attributes[ATTR_MESSAGING_MESSAGE_CONVERSATION_ID]).toBe(conversation)
      expect(consume!.attributes[ATTR_MESSAGING_CONSUMER_GROUP_NAME]).toBe(AUDIT_GROUP)
      // the failed call is an error on both sides
      expect(sends.filter((span) => span.status.code === SpanStatusCode.ERROR)).toHaveLength(1)
      expect(handles.filter((span) => span.status.code === SpanStatusCode.ERROR)).toHaveLength(1)

      await reader.forceFlush()
      const points = (name: string) =>
        exporter
          .getMetrics()
          .flatMap((resource) => resource.scopeMetrics.flatMap((scope) => scope.metrics))
          .filter((metric) => metric.descriptor.name === name)
          .flatMap((metric) => metric.dataPoints as { attributes: Record<string, unknown>; value: unknown }[])
      const outcomes = (name: string, key: string, value: string) =>
        points(name)
          .filter((point) => point.attributes[key] === value)
          .map((point) => [
            point.attributes[ATTR_ERROR_TYPE] ?? 'ok',
            (point.value as { count: number }).count,
          ])
          .sort()
      // the caller sees the handler's failure as INTERNAL; the handler's side names the error's type
      expect(
        outcomes(METRIC_MESSAGING_CLIENT_OPERATION_DURATION, ATTR_MESSAGING_DESTINATION_TEMPLATE, command),
      ).toEqual([
        ['INTERNAL', 1],
        ['ok', 1],
      ])
      expect(outcomes(METRIC_MESSAGING_PROCESS_DURATION, 'conduit.handler', command)).toEqual([
        ['Error', 1],
        ['ok', 1],
      ])
      expect(
        outcomes(METRIC_MESSAGING_PROCESS_DURATION, 'conduit.handler', `subscription ${AUDIT_GROUP}`),
      ).toEqual([['ok', 1]])
    } finally {
      trace.disable()
      metrics.disable()
      await Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown()])
    }
  })
}
