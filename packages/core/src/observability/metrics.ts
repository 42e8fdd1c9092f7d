import {
  type Attributes,
  type Counter,
  createNoopMeter,
  type Histogram,
  type MeterProvider,
  metrics,
  type UpDownCounter,
} from '@opentelemetry/api'
import { isConduitError } from '../errors/errors.js'
import {
  ATTR_ERROR_TYPE,
  METRIC_MESSAGING_CLIENT_OPERATION_DURATION,
  METRIC_MESSAGING_PROCESS_DURATION,
} from './semconv.js'

/** Durations are recorded in seconds, as the conventions ask, with sub-millisecond resolution. */
const SECONDS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

/** What the bridge reports through observable gauges, read at each collection. */
export interface ObservedBridge {
  readonly attributes: Attributes
  pendingInvocations(): number
  isReady(): boolean
  isHealthy(): boolean
}

export interface Instruments {
  /** messaging.process.duration (s): handler runs, with error.type when they failed */
  readonly processDuration: Histogram
  /** messaging.client.operation.duration (s): invocations (until the reply) and emits (until accepted) */
  readonly clientDuration: Histogram
  readonly inFlight: UpDownCounter
  readonly timeouts: Counter
  readonly redeliveries: Counter
  readonly deadLetters: Counter
  /** replies, acks, nacks and dead letters that could not be done (the poison policy's count) */
  readonly messagingFailures: Counter
}

/**
 * The bridge's instruments, made from whatever MeterProvider is global right now. @opentelemetry/api
 * has no proxy for meters, so a provider registered after the bridge was built would otherwise get
 * nothing: `current()` notices a new global provider and makes the instruments again from it.
 * Undefined while no provider is registered, so the engine skips timing entirely.
 */
export class RuntimeInstruments {
  private provider: MeterProvider | undefined
  private instruments: Instruments | undefined

  constructor(private readonly bridge: ObservedBridge) {}

  current(): Instruments | undefined {
    const provider = metrics.getMeterProvider()
    if (provider !== this.provider) {
      this.provider = provider
      this.instruments = isNoop(provider) ? undefined : this.create(provider)
    }
    return this.instruments
  }

  private create(provider: MeterProvider): Instruments {
    const meter = provider.getMeter('@conduit/core', '0.1.0')
    const seconds = (name: string, description: string) =>
      meter.createHistogram(name, {
        unit: 's',
        description,
        advice: { explicitBucketBoundaries: SECONDS_BUCKETS },
      })
    const pending = meter.createObservableGauge('conduit.invoke.pending', {
      description: 'Invocations awaiting their reply',
    })
    const connected = meter.createObservableGauge('conduit.bridge.ready', {
      description: '1 while the bridge is connected and ready, else 0',
    })
    const healthy = meter.createObservableGauge('conduit.bridge.healthy', {
      description: '1 unless the bridge gave up reconnecting for good (or is stopped)',
    })
    const { bridge } = this
    meter.addBatchObservableCallback(
      (result) => {
        result.observe(pending, bridge.pendingInvocations(), bridge.attributes)
        result.observe(connected, bridge.isReady() ? 1 : 0, bridge.attributes)
        result.observe(healthy, bridge.isHealthy() ? 1 : 0, bridge.attributes)
      },
      [pending, connected, healthy],
    )
    return {
      processDuration: seconds(
        METRIC_MESSAGING_PROCESS_DURATION,
        'Duration of command and subscription handlers',
      ),
      clientDuration: seconds(
        METRIC_MESSAGING_CLIENT_OPERATION_DURATION,
        'Caller-side duration of invocations (until the reply) and emits (until the broker accepted them)',
      ),
      inFlight: meter.createUpDownCounter('conduit.handler.in_flight', {
        description: 'Handlers running now',
      }),
      timeouts: meter.createCounter('conduit.invoke.timeouts', {
        description: 'Invocations that reached their deadline',
      }),
      redeliveries: meter.createCounter('conduit.messaging.redeliveries', {
        description: 'Failed durable deliveries handed back for another attempt',
      }),
      deadLetters: meter.createCounter('conduit.messaging.dead_letters', {
        description: 'Messages dead-lettered (malformed, unusable, or out of attempts)',
      }),
      messagingFailures: meter.createCounter('conduit.messaging.failures', {
        description: 'Replies, acks, nacks and dead letters that could not be done',
      }),
    }
  }
}

/** The API's no-op provider hands out no-op meters; nothing registered means nothing to record. */
const NOOP_METER_PROTOTYPE = Object.getPrototypeOf(createNoopMeter())
function isNoop(provider: MeterProvider): boolean {
  return Object.getPrototypeOf(provider.getMeter('@conduit/core')) === NOOP_METER_PROTOTYPE
}

/** Seconds since `startedMs` (a performance.now() reading). */
export function secondsSince(startedMs: number): number {
  return (performance.now() - startedMs) / 1000
}

/** `attributes` plus the outcome: error.type (the Conduit error code, else the error's name). */
export function withOutcome(attributes: Attributes, error: unknown): Attributes {
  if (error === undefined) return attributes
  const type = isConduitError(error) ? error.code : error instanceof Error ? error.name : '_OTHER'
  return { ...attributes, [ATTR_ERROR_TYPE]: type }
}
