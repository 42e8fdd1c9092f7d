import type { Envelope } from '../envelope/envelope.js'
import { BridgeUnavailableError } from '../errors/errors.js'
import { errorFromWire, isWireError } from '../errors/wire.js'
import type { Logger } from '../observability/logging.js'
import type { RawMessage } from '../transport/port.js'
import { decodeInbound } from './envelopes.js'
import type { PendingInvocations } from './PendingInvocations.js'

/** Settles the call a reply answers (matched by `inReplyTo`, the command's id); anything else is logged and dropped. */
export function receiveReply(pending: PendingInvocations, logger: Logger, raw: RawMessage): boolean {
  let message: Envelope
  try {
    message = decodeInbound(raw)
  } catch (error) {
    logger.warn({ reason: (error as Error).message }, 'dropped malformed reply')
    return false
  }
  const key = message.inReplyTo
  if (key === undefined) {
    logger.warn({ correlationId: message.correlationId }, 'dropped reply without inReplyTo')
    return false
  }
  let matched: boolean
  if (message.type === 'response') {
    matched = pending.resolve(key, message.payload)
  } else if (message.type === 'error' && isWireError(message.payload)) {
    matched = pending.reject(key, errorFromWire(message.payload))
  } else {
    logger.warn({ type: message.type, correlationId: message.correlationId }, 'dropped unexpected reply')
    return false
  }
  if (!matched) {
    logger.debug(
      { inReplyTo: key, correlationId: message.correlationId },
      'dropped reply nobody waits for (late, or not ours)',
    )
  }
  return matched
}

/**
 * The connection that carries replies dropped: no waiting call can learn its outcome any more,
 * so each fails now with a retryable 503 that says so, instead of at its deadline.
 */
export function failWaitingCalls(
  pending: PendingInvocations,
  logger: Logger,
  bridgeName: string,
  reason: string,
): void {
  const waiting = pending.size
  if (waiting === 0) return
  logger.warn(
    { pending: waiting, reason },
    'replies can no longer arrive; failing the calls waiting for them',
  )
  pending.rejectAll(
    () =>
      new BridgeUnavailableError(
        `${bridgeName}: ${reason} while waiting for the reply; the outcome is unknown (the command may or may not have run)`,
      ),
  )
}
