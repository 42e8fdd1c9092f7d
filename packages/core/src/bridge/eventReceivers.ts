import type { SubscriptionFilter } from '../definitions/types.js'
import type { Envelope } from '../envelope/envelope.js'
import { isConduitError } from '../errors/errors.js'
import { type Instruments, secondsSince, withOutcome } from '../observability/metrics.js'
import {
  isTracingActive,
  NOOP_SPAN,
  recordSpanError,
  runInSpan,
  spanTraceparent,
  traceIdOf,
} from '../observability/tracing.js'
import type {
  DeliveryOutcome,
  DestinationTarget,
  EventListenerSpec,
  EventReceiver,
  RawMessage,
} from '../transport/port.js'
import { compileSubscriptionMatcher } from './filters.js'
import type { LocalEventHandler, LocalRoute } from './LocalRoute.js'
import { ACK, deadLetter, decodeAs, type ReceiverEnvironment } from './receivers.js'

/** The receiver behind one event listener (consumer group). Never rejects. */
export function createEventReceiver(
  env: ReceiverEnvironment,
  spec: EventListenerSpec & { filter: SubscriptionFilter; subject: string },
  route: LocalRoute<LocalEventHandler>,
): EventReceiver {
  const matches = compileSubscriptionMatcher(spec.eventPattern, spec.filter)
  // Not an async function: the common delivery (no span, no metrics) settles from the handler's
  // own promise, one promise and one job fewer per event.
  return (raw, delivery) => {
    try {
      const event = decodeAs(raw, 'event')
      if (typeof event === 'string') {
        env.logger.warn(
          { bridge: env.bridgeName, subscription: spec.subject, reason: event },
          'dead-lettered malformed event',
        )
        return Promise.resolve(deadLetter(env, raw, event))
      }
      if (!matches(event)) return RESOLVED_ACK
      const handler = route.pick()
      if (handler === undefined) {
        // The last local registration left while the listener drains: let another instance have it.
        if (spec.delivery === 'durable') return Promise.resolve({ action: 'retry', delayMs: 0 })
        env.logger.warn(
          { subscription: spec.subject, correlationId: event.correlationId },
          'event arrived while stopping; at-most-once, dropped',
        )
        return RESOLVED_ACK
      }
      const instruments = env.instruments.current()
      if (instruments !== undefined || isTracingActive()) {
        return observedDelivery(env, spec, raw, event, delivery.attempt, handler, instruments).catch(
          (error: unknown) => internalFailure(env, spec, raw, error),
        )
      }
      const failed = (error: unknown) => {
        handler.inFlight.end()
        try {
          return failureOutcome(env, spec, raw, event, delivery.attempt, error)
        } catch (unexpected) {
          return internalFailure(env, spec, raw, unexpected)
        }
      }
      handler.inFlight.begin()
      let running: Promise<void>
      try {
        running = handler.execute(
          { message: event, span: NOOP_SPAN, traceparent: event.traceparent },
          delivery.attempt,
        )
      } catch (error) {
        return Promise.resolve(failed(error))
      }
      return running.then(() => {
        handler.inFlight.end()
        return ACK
      }, failed)
    } catch (error) {
      return Promise.resolve(internalFailure(env, spec, raw, error))
    }
  }
}

/** One delivery with a span and metrics: the same steps, timed and traced (a throw here is caught by the receiver). */
async function observedDelivery(
  env: ReceiverEnvironment,
  spec: EventListenerSpec & { subject: string },
  raw: RawMessage,
  event: Envelope,
  attempt: number,
  handler: LocalEventHandler,
  instruments: Instruments | undefined,
): Promise<DeliveryOutcome> {
  const target: DestinationTarget = { kind: 'event', eventName: event.eventName! }
  const subjectAttributes = { 'conduit.handler': spec.subject }
  const metricAttributes = instruments
    ? { ...env.spans.metricAttributes(target, 'process'), ...subjectAttributes }
    : subjectAttributes
  const started = instruments ? performance.now() : 0
  const span = isTracingActive() ? env.spans.process(target, event, spec.group) : NOOP_SPAN
  handler.inFlight.begin()
  instruments?.inFlight.add(1, metricAttributes)
  let failure: unknown
  try {
    await runInSpan(span, () =>
      handler.execute(
        { message: event, span, traceparent: spanTraceparent(span, event.traceparent) },
        attempt,
      ),
    )
    return ACK
  } catch (error) {
    failure = error
    recordSpanError(span, error)
    return failureOutcome(env, spec, raw, event, attempt, error)
  } finally {
    span.end()
    handler.inFlight.end()
    if (instruments) {
      instruments.inFlight.add(-1, metricAttributes)
      instruments.processDuration.record(secondsSince(started), withOutcome(metricAttributes, failure))
    }
  }
}

const RESOLVED_ACK: Promise<DeliveryOutcome> = Promise.resolve(ACK)

/** Nothing in a receiver should throw; if something does, the message ends here instead of looping. */
function internalFailure(
  env: ReceiverEnvironment,
  spec: { subject: string },
  raw: RawMessage,
  error: unknown,
): DeliveryOutcome {
  env.reportFailure('handle an event', error, { subscription: spec.subject })
  return deadLetter(env, raw, `internal failure: ${(error as Error)?.message ?? String(error)}`)
}

function failureOutcome(
  env: ReceiverEnvironment,
  spec: EventListenerSpec & { subject: string },
  raw: RawMessage,
  event: Envelope,
  attempt: number,
  error: unknown,
): DeliveryOutcome {
  const context = {
    err: error,
    subscription: spec.subject,
    correlationId: event.correlationId,
    traceId: traceIdOf(event.traceparent),
    attempt,
  }
  if (spec.delivery !== 'durable') {
    env.logger.error(context, 'subscription failed; at-most-once delivery, the event is dropped')
    return ACK
  }
  // A 4xx (bad payload, a HandledError saying "never") fails the same way on every attempt.
  const permanent = isConduitError(error) && !error.retryable && error.status < 500
  if (attempt < spec.maxAttempts && !permanent) {
    env.logger.warn(context, 'subscription failed; the event will be redelivered')
    env.instruments.current()?.redeliveries.add(1, env.spans.bridgeAttributes)
    return { action: 'retry', delayMs: env.backoff(attempt) }
  }
  env.logger.error(context, 'subscription failed on its last attempt; the event is dead-lettered')
  const message = error instanceof Error ? error.message : String(error)
  return deadLetter(
    env,
    raw,
    permanent ? `permanent failure: ${message}` : `failed ${attempt} times: ${message}`,
    event.id,
  )
}
