import type { DeadLetterRecord } from '@conduit/core/transport'
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream'
import { headers } from '@nats-io/transport-node'
import type { JetStreamTopology } from './JetStreamTopology.js'
import type { NatsSubjects } from './subjects.js'

export const DEAD_LETTER_REASON_HEADER = 'Conduit-Dead-Letter-Reason'
export const ORIGINAL_SUBJECT_HEADER = 'Conduit-Original-Subject'
export const ATTEMPTS_HEADER = 'Conduit-Attempts'
/** present (`true`) when the record is the engine's stub for a message too large to copy */
export const STUB_HEADER = 'Conduit-Dead-Letter-Stub'

export interface DeadLetter {
  readonly group: string
  /** the subject the event was delivered on */
  readonly subject: string
  /** what the engine said to store: the original bytes, or a stub when those would not fit */
  readonly record: DeadLetterRecord
  readonly attempts: number
}

/**
 * Dead letters live on `<prefix>.dlq.<group>` in their own stream, with the original bytes
 * untouched (a malformed message stays inspectable) and the why in headers. A message too large
 * to copy with those headers is stored as the engine's small JSON stub (reason, id, size).
 */
export class DeadLetters {
  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly topology: JetStreamTopology,
    private readonly subjects: NatsSubjects,
    private readonly publishTimeoutMs: number,
  ) {}

  /** Resolves once the dead-letter stream has stored it; only then may the original be acked. */
  async publish(letter: DeadLetter): Promise<void> {
    await this.topology.ensureDeadLetterStream()
    const { message, reason, stub } = letter.record
    if (!(message instanceof Uint8Array))
      throw new TypeError('a dead-letter record of the NATS bridge must be bytes')
    const meta = headers()
    // Header values are single lines; the engine bounded the reason's length.
    meta.set(DEAD_LETTER_REASON_HEADER, reason.replace(/[\r\n]+/g, ' '))
    meta.set(ORIGINAL_SUBJECT_HEADER, letter.subject)
    meta.set(ATTEMPTS_HEADER, String(letter.attempts))
    if (stub) meta.set(STUB_HEADER, 'true')
    await this.js.publish(this.subjects.deadLetter(letter.group), message, {
      headers: meta,
      timeout: this.publishTimeoutMs,
    })
  }

  /** The raw messages dead-lettered for one consumer group, oldest first. */
  async read(group: string): Promise<Uint8Array[]> {
    if (!(await this.topology.hasDeadLetterStream())) return []
    const stream = this.subjects.deadLetterStream
    const subject = this.subjects.deadLetter(group)
    const letters: Uint8Array[] = []
    let seq = 1
    for (;;) {
      const stored = await this.jsm.direct.getMessage(stream, { seq, next_by_subj: subject })
      if (stored === null) return letters
      letters.push(stored.data)
      seq = stored.seq + 1
    }
  }
}
