import {
  type Counter,
  createNoopMeter,
  type Histogram,
  metrics,
  type UpDownCounter,
} from '@opentelemetry/api'

export interface RuntimeInstruments {
  /** false when no MeterProvider was registered: the engine then skips timing entirely */
  active: boolean
  handlerDuration: Histogram
  handlerErrors: Counter
  inFlight: UpDownCounter
  invokeDuration: Histogram
  /** replies, acks, nacks and dead letters that could not be done (the poison policy's count) */
  messagingFailures: Counter
}

/**
 * Created per bridge (not at module load) because @opentelemetry/api has no proxy for meters:
 * a MeterProvider registered before the bridge is built is the one used.
 */
export function createRuntimeInstruments(): RuntimeInstruments {
  const meter = metrics.getMeter('@conduit/core', '0.1.0')
  return {
    active: meter.constructor !== createNoopMeter().constructor,
    handlerDuration: meter.createHistogram('conduit.handler.duration', {
      unit: 'ms',
      description: 'Duration of command and subscription handlers',
    }),
    handlerErrors: meter.createCounter('conduit.handler.errors', { description: 'Failed handler runs' }),
    inFlight: meter.createUpDownCounter('conduit.handler.in_flight', { description: 'Handlers running now' }),
    invokeDuration: meter.createHistogram('conduit.invoke.duration', {
      unit: 'ms',
      description: 'Caller-side duration of command invocations',
    }),
    messagingFailures: meter.createCounter('conduit.messaging.failures', {
      description: 'Replies, acks, nacks and dead letters that could not be done',
    }),
  }
}
