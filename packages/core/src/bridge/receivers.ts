import type { Span } from '@opentelemetry/api'
import { commandAddressKey, type Envelope, type Sender } from '../envelope/envelope.js'
import {
  BridgeUnavailableError,
  isConduitError,
  PayloadTooLargeError,
  TimeoutError,
} from '../errors/errors.js'
import type { Logger } from '../observability/logging.js'
import { type RuntimeInstruments, secondsSince, withOutcome } from '../observability/metrics.js'
import {
  isTracingActive,
  NOOP_SPAN,
  recordSpanError,
  runInSpan,
  spanTraceparent,
  traceIdOf,
} from '../observability/tracing.js'
import type {
  CommandAddress,
  CommandReceiver,
  DeliveryOutcome,
  DestinationTarget,
  RawMessage,
  RefusedReply,
  ReplySender,
} from '../transport/port.js'
import { boundedReason, deadLetterRecord } from './deadLetterRecord.js'
import { decodeInbound, errorEnvelope, responseEnvelope } from './envelopes.js'
import type { LocalCommandHandler, LocalRoute } from './LocalRoute.js'
import { Outbound } from './outbound.js'
import type { MessagingSpans } from './spans.js'

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
  readonly spans: MessagingSpans
  /** the bridge's payload limit; replies and dead-letter records are made to fit it */
  readonly maxPayloadBytes: () => number
  /** false for in-process transports, which move envelope objects */
  readonly encodes: boolean
  /** names this bridge instance in replies no local handler made */
  readonly sender: Sender
  backoff(attempt: number): number
  /** logs a failure with its reason and counts it (conduit.messaging.failures) */
  reportFailure(action: string, error: unknown, context?: Record<string, unknown>): void
}

export const ACK: DeliveryOutcome = Object.freeze({ action: 'ack' })

export function deadLetter(
  env: ReceiverEnvironment,
  raw: RawMessage,
  reason: string,
  id?: string,
): DeliveryOutcome {
  env.instruments.current()?.deadLetters.add(1, env.spans.bridgeAttributes)
  return {
    action: 'dead-letter',
    reason: boundedReason(reason),
    record: deadLetterRecord(raw, reason, env.maxPayloadBytes(), id),
  }
}

/** The envelope, if `raw` is a valid one of `type`; else the reason it is not. */
export function decodeAs(raw: RawMessage, type: 'command' | 'event'): Envelope | string {
  try {
    const envelope = decodeInbound(raw)
    return envelope.type === type ? envelope : `expected a ${type}, got ${envelope.type}`
  } catch (error) {
    return (error as Error).message
  }
}

function isRefused(reply: ReplySender | RefusedReply): reply is RefusedReply {
  return typeof reply !== 'function'
}

/**
 * The receiver behind one command listener. It never rejects: a message it cannot read is
 * dead-lettered, one it cannot answer is dropped with a log, and a reply that does not fit
 * becomes a small error reply.
 */
export function createCommandReceiver(
  env: ReceiverEnvironment,
  address: CommandAddress,
  route: LocalRoute<LocalCommandHandler>,
): CommandReceiver {
  const target: DestinationTarget = { kind: 'command', address }
  const name = commandAddressKey(address)
  const group = `${address.service}.v${address.version}`
  const metricAttributes = { ...env.spans.metricAttributes(target, 'process'), 'conduit.handler': name }
  return async (raw, reply) => {
    try {
      const command = decodeAs(raw, 'command')
      if (typeof command === 'string') {
        env.logger.warn(
          { bridge: env.bridgeName, command: name, reason: command },
          'dropped malformed command',
        )
        return deadLetter(env, raw, command)
      }
      if (isRefused(reply)) {
        const reason = `reply address refused: ${reply.refused}`
        env.logger.warn(
          { bridge: env.bridgeName, command: name, correlationId: command.correlationId, reason },
          'dropped command with an unusable reply address',
        )
        return deadLetter(env, raw, reason, command.id)
      }
      const handler = route.pick()
      if (handler === undefined) {
        // Every local registration left while the listener drains: the caller may retry elsewhere.
        const refusal = new BridgeUnavailableError(`${name} is stopping on this instance`)
        await sendReply(env, command, errorEnvelope(command, refusal, env.sender), reply)
        return ACK
      }
      const { sender } = handler
      if (command.deadline !== undefined && command.deadline <= Date.now()) {
        // The caller has given up (or is about to): running it now would only do unwanted work.
        env.logger.debug(
          { correlationId: command.correlationId },
          'command expired before pickup, not executed',
        )
        const expired = new TimeoutError('Deadline passed before the command was picked up')
        await sendReply(env, command, errorEnvelope(command, expired, sender), reply)
        return ACK
      }
      const instruments = env.instruments.current()
      const started = instruments ? performance.now() : 0
      const span = isTracingActive() ? env.spans.process(target, command, group) : NOOP_SPAN
      handler.inFlight.begin()
      instruments?.inFlight.add(1, metricAttributes)
      const traceparent = spanTraceparent(span, command.traceparent)
      let response: Envelope
      let failure: unknown
      try {
        const output = await runInSpan(span, () => handler.execute({ message: command, span, traceparent }))
        response = responseEnvelope(command, output, sender, traceparent)
      } catch (error) {
        failure = error
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
        const sending = sendReply(env, command, response, reply)
        if (sending !== undefined) await sending
      } finally {
        span.end()
        handler.inFlight.end()
        if (instruments) {
          instruments.inFlight.add(-1, metricAttributes)
          instruments.processDuration.record(secondsSince(started), withOutcome(metricAttributes, failure))
        }
      }
      return ACK
    } catch (error) {
      // Nothing above should throw; if it does, the message ends here instead of looping.
      env.reportFailure('handle a command', error, { command: name })
      return deadLetter(env, raw, `internal failure: ${(error as Error)?.message ?? String(error)}`)
    }
  }
}

/**
 * Encodes and sends one reply. A reply too large for the bridge becomes a small error reply
 * saying so; a reply that cannot be sent at all is logged and counted, never thrown.
 */
function sendReply(
  env: ReceiverEnvironment,
  command: Envelope,
  response: Envelope,
  reply: ReplySender,
): Promise<void> | undefined {
  const limit = env.maxPayloadBytes()
  let outbound = new Outbound(response, limit, env.bridgeName)
  try {
    if (env.encodes) void outbound.bytes
  } catch (error) {
    if (!(error instanceof PayloadTooLargeError)) {
      env.reportFailure('encode a reply', error, { correlationId: command.correlationId })
      return undefined
    }
    env.logger.warn(
      { correlationId: command.correlationId, reason: error.message },
      'reply too large; answering with an error',
    )
    outbound = new Outbound(errorEnvelope(command, error, response.sender), limit, env.bridgeName)
    try {
      void outbound.bytes
    } catch (stillTooLarge) {
      env.reportFailure('send a reply', stillTooLarge, { correlationId: command.correlationId })
      return undefined
    }
  }
  // Synchronous on the hot path: no promise unless the transport returns one.
  let sent: Promise<void> | void
  try {
    sent = reply(outbound)
  } catch (error) {
    return replyFailed(env, command, response, reply, error)
  }
  return sent === undefined
    ? undefined
    : sent.then(undefined, (error) => replyFailed(env, command, response, reply, error))
}

async function replyFailed(
  env: ReceiverEnvironment,
  command: Envelope,
  response: Envelope,
  reply: ReplySender,
  error: unknown,
): Promise<void> {
  env.reportFailure('send a reply', error, { correlationId: command.correlationId })
  if (error instanceof PayloadTooLargeError && response.type !== 'error') {
    // The broker refused the size (a limit only it knows): tell the caller why instead of a timeout.
    const limit = env.maxPayloadBytes()
    try {
      await reply(new Outbound(errorEnvelope(command, error, response.sender), limit, env.bridgeName))
    } catch (second) {
      env.reportFailure('send a reply', second, { correlationId: command.correlationId })
    }
  }
}
