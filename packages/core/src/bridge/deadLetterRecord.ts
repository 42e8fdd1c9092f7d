import type { DeadLetterRecord, RawMessage } from '../transport/port.js'

/** Reasons are cut to this many characters: they travel in headers or beside the message. */
export const MAX_REASON_LENGTH = 500
/**
 * Room kept for what a transport adds to a dead letter (headers naming the group, subject,
 * reason and attempts): a record is the original only when it fits with this much to spare.
 */
export const DEAD_LETTER_HEADROOM_BYTES = 4096

export function boundedReason(reason: string): string {
  return reason.length <= MAX_REASON_LENGTH ? reason : `${reason.slice(0, MAX_REASON_LENGTH - 1)}…`
}

/**
 * What goes to the dead-letter place: the original message when it fits the broker with room for
 * the transport's headers, else a small JSON stub with the reason, the original id (when it could
 * be read) and its size, so that the record can always be stored and the message never loops.
 */
export function deadLetterRecord(
  raw: RawMessage,
  reason: string,
  maxPayloadBytes: number,
  originalId?: string,
): DeadLetterRecord {
  const bounded = boundedReason(reason)
  if (!(raw instanceof Uint8Array)) return { reason: bounded, message: raw, stub: false }
  if (raw.byteLength + DEAD_LETTER_HEADROOM_BYTES <= maxPayloadBytes) {
    return { reason: bounded, message: raw, stub: false }
  }
  const stub = {
    conduitDeadLetterStub: 1,
    reason: bounded,
    originalId: originalId ?? null,
    originalBytes: raw.byteLength,
  }
  return { reason: bounded, message: Buffer.from(JSON.stringify(stub), 'utf8'), stub: true }
}
