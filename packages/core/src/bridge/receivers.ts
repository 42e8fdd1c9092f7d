import type { Span } from '@opentelemetry/api'
import type { SubscriptionFilter } from '../definitions/types.js'
import type { Envelope, Sender } from '../envelope/envelope.js'
import { isConduitError, PayloadTooLargeError, TimeoutError } from '../errors/errors.js'
import type { Logger } from '../observability/logging.js'
import type { RuntimeInstruments } from '../observability/metrics.js'
import {
  isTracingActive,
  NOOP_SPAN,
  recordSpanError,
  SpanKind,
  spanTraceparent,
  startSpan,
  traceIdOf,
} from '../observability/tracing.js'
import type { CommandReceiver, DeliveryOutcome, EventListenerSpec, EventReceiver } from '../transport/port.js'
import { decodeInbound, errorEnvelope, responseEnvelope } from './envelopes.js'
import { compileSubscriptionMatcher } from './filters.js'
import type { InFlight } from './InFlight.js'

/** What the engine hands a service's pipeline for one message. */
export interface HandlingScope {
  readonly message: Envelope
  readonly span: Span
  /** traceparent for messages this handler sends */
  readonly traceparent: string | undefined
}

/** Runs a command; returns the output payload or throws (a ConduitError reaches the caller). */
export type CommandExecutor = (scope: HandlingScope) => Promise<unknown>
/** Runs a subscription handler; throws to signal failure. */
export type EventExecutor = (scope: HandlingScope, attempt: number) => Promise<void>

export interface ReceiverEnvironment {
  readonly bridgeName: string
  readonly logger: Logger
  readonly instruments: RuntimeInstruments
  readonly inFlight: InFlight
  backoff(attempt: number): number
}

const ACK: DeliveryOutcome = Object.freeze({ action: 'ack' })

export function createCommandReceiver(
  env: ReceiverEnvironment,
  name: string,
  sender: Sender,
  execute: CommandExecutor,
  inFlight: InFlight,
): CommandReceiver {
  const spanName = `process ${name}`
  const spanAttributes = {
    'messaging.system': env.bridgeName,
    'messaging.operation.type': 'process',
    'messaging.destination.name': name,
  }
  const metricAttributes = { 'conduit.handler': name }
  return async (raw, reply) => {
    let command: Envelope
    try {
      command = decodeInbound(raw)
      if (command.type !== 'command') throw new Error(`expected a command, got ${command.type}`)
    } catch (error) {
      const reason = (error as Error).message
      env.logger.warn({ bridge: env.bridgeName, reason }, 'dropped malformed command')
      return { action: 'dead-letter', reason }
    }
    if (command.deadline !== undefined && command.deadline <= Date.now()) {
      // The caller has given up (or is about to): running it now would only do unwanted work.
      env.logger.debug(
        { correlationId: command.correlationId },
        'command expired before pickup, not executed',
      )
      await reply(
        errorEnvelope(command, new TimeoutError('Deadline passed before the command was picked up'), sender),
      )
      return ACK
    }
    const metered = env.instruments.active
    const started = metered ? performance.now() : 0
    const span = isTracingActive() ? startSpan(spanName, SpanKind.SERVER, spanAttributes, command) : NOOP_SPAN
    inFlight.begin()
    env.inFlight.begin()
    if (metered) env.instruments.inFlight.add(1)
    const traceparent = spanTraceparent(span, command.traceparent)
    let response: Envelope
    let failed = false
    try {
      const output = await execute({ message: command, span, traceparent })
      response = responseEnvelope(command, output, sender, traceparent)
    } catch (error) {
      failed = true
      recordSpanError(span, error)
      if (!isConduitError(error)) {
        env.logger.error(
          {
            err: error,
            correlationId: command.correlationId,
            traceId: traceIdOf(command.traceparent),
            command: name,
          },
          'command failed with an unhandled error',
        )
      }
      response = errorEnvelope(command, error, sender, traceparent)
    }
    try {
      await reply(response)
    } catch (error) {
      await replyFailed(env, command, sender, reply, error)
    } finally {
      span.end()
      inFlight.end()
      env.inFlight.end()
      if (metered) {
        env.instruments.inFlight.add(-1)
        env.instruments.handlerDuration.record(performance.now() - started, metricAttributes)
        if (failed) env.instruments.handlerErrors.add(1, metricAttributes)
      }
    }
    return ACK
  }
}

async function replyFailed(
  env: ReceiverEnvironment,
  command: Envelope,
  sender: Sender,
  reply: (response: Envelope) => Promise<void>,
  error: unknown,
): Promise<void> {
  env.logger.error({ err: error, correlationId: command.correlationId }, 'could not send the response')
  if (error instanceof PayloadTooLargeError) {
    // The output did not fit: tell the caller why instead of letting it time out.
    await reply(errorEnvelope(command, error, sender)).catch(() => undefined)
  }
}

export function createEventReceiver(
  env: ReceiverEnvironment,
  spec: EventListenerSpec & { filter: SubscriptionFilter; subject: string },
  execute: EventExecutor,
  inFlight: InFlight,
): EventReceiver {
  const matches = compileSubscriptionMatcher(spec.eventPattern, spec.filter)
  const metricAttributes = { 'conduit.handler': spec.subject }
  return async (raw, delivery) => {
    let event: Envelope
    try {
      event = decodeInbound(raw)
      if (event.type !== 'event') throw new Error(`expected an event, got ${event.type}`)
    } catch (error) {
      const reason = (error as Error).message
      env.logger.warn(
        { bridge: env.bridgeName, subscription: spec.subject, reason },
        'dead-lettered malformed event',
      )
      return { action: 'dead-letter', reason }
    }
    if (!matches(event)) return ACK
    const metered = env.instruments.active
    const started = metered ? performance.now() : 0
    const span = !isTracingActive()
      ? NOOP_SPAN
      : startSpan(
          `process ${event.eventName}`,
          SpanKind.CONSUMER,
          {
            'messaging.system': env.bridgeName,
            'messaging.operation.type': 'process',
            'messaging.destination.name': event.eventName!,
            'messaging.consumer.group.name': spec.group,
            'messaging.message.id': event.id,
          },
          event,
        )
    inFlight.begin()
    env.inFlight.begin()
    if (metered) env.instruments.inFlight.add(1)
    try {
      await execute(
        { message: event, span, traceparent: spanTraceparent(span, event.traceparent) },
        delivery.attempt,
      )
      return ACK
    } catch (error) {
      recordSpanError(span, error)
      if (metered) env.instruments.handlerErrors.add(1, metricAttributes)
      return failureOutcome(env, spec, event, delivery.attempt, error)
    } finally {
      span.end()
      inFlight.end()
      env.inFlight.end()
      if (metered) {
        env.instruments.inFlight.add(-1)
        env.instruments.handlerDuration.record(performance.now() - started, metricAttributes)
      }
    }
  }
}

function failureOutcome(
  env: ReceiverEnvironment,
  spec: EventListenerSpec & { subject: string },
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
    return { action: 'retry', delayMs: env.backoff(attempt) }
  }
  env.logger.error(context, 'subscription failed on its last attempt; the event is dead-lettered')
  const message = error instanceof Error ? error.message : String(error)
  return {
    action: 'dead-letter',
    reason: permanent ? `permanent failure: ${message}` : `failed ${attempt} times: ${message}`,
  }
}
