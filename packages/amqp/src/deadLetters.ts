import type { DeadLetterRecord } from '@conduit/core/transport'
import type { Message, Options } from 'amqplib'
import { type AmqpSession, asBuffer } from './AmqpSession.js'
import {
  ATTEMPT_HEADER,
  DEAD_LETTER_REASON_HEADER,
  DEAD_LETTER_STUB_HEADER,
  ORIGINAL_ROUTING_KEY_HEADER,
} from './topology.js'

/** readDeadLetters returns at most this many messages, oldest first. */
export const DEAD_LETTER_READ_LIMIT = 10_000

/** Properties worth keeping on a copy: the ids and type that make it traceable (each at most 255 bytes). */
function copiedProperties(message: Message, headers: Record<string, unknown>): Options.Publish {
  const { contentType, messageId, correlationId, type, timestamp } = message.properties
  const properties: Options.Publish = { persistent: true, headers }
  if (contentType !== undefined) properties.contentType = contentType
  if (messageId !== undefined) properties.messageId = messageId
  if (correlationId !== undefined) properties.correlationId = correlationId
  if (type !== undefined) properties.type = type
  if (timestamp !== undefined) properties.timestamp = timestamp
  return properties
}

/** The first hop's routing key (the event name, the command queue); later hops only see a retry queue's. */
function originalRoutingKey(message: Message): string {
  const carried: unknown = message.properties.headers?.[ORIGINAL_ROUTING_KEY_HEADER]
  // Read from the wire: kept only when it looks like a routing key (a short string).
  return typeof carried === 'string' && carried.length <= 255 ? carried : message.fields.routingKey
}

/**
 * Puts a confirmed copy of `message` on `queue` with the bridge's own headers only: the
 * original's AMQP headers are not copied (Conduit carries everything in the envelope), so a
 * copy's headers stay small whatever the sender put on the original. The caller acks the
 * original only after this resolves, so a crash in between duplicates the message rather than
 * losing it.
 */
export async function publishCopy(
  session: AmqpSession,
  queue: string,
  queueOptions: Options.AssertQueue,
  message: Message,
  headers: Record<string, unknown>,
  content: Buffer = message.content,
): Promise<void> {
  await session.ensureQueue(queue, queueOptions)
  const allHeaders = { [ORIGINAL_ROUTING_KEY_HEADER]: originalRoutingKey(message), ...headers }
  await session.publish('', queue, content, copiedProperties(message, allHeaders))
}

/**
 * Dead-letters what the engine handed over: the original bytes, or the small stub it made when
 * the original would not fit, with the (bounded) reason and the attempts in headers.
 */
export function publishDeadLetter(
  session: AmqpSession,
  queue: string,
  queueOptions: Options.AssertQueue,
  message: Message,
  record: DeadLetterRecord,
  attempt: number,
): Promise<void> {
  const headers: Record<string, unknown> = {
    [DEAD_LETTER_REASON_HEADER]: record.reason,
    [ATTEMPT_HEADER]: attempt,
  }
  if (record.stub) headers[DEAD_LETTER_STUB_HEADER] = true
  // A transport that moves bytes always gets bytes back; the original is the fallback for the type.
  const content = record.message instanceof Uint8Array ? asBuffer(record.message) : message.content
  return publishCopy(session, queue, queueOptions, message, headers, content)
}

/**
 * Reads a dead-letter queue without consuming it: every message is fetched unacknowledged and
 * handed back when the reading channel closes, so it stays in place for the next reader.
 */
export function readQueueWithoutConsuming(session: AmqpSession, queue: string): Promise<Uint8Array[]> {
  return session.withChannel(async (channel) => {
    try {
      await channel.checkQueue(queue)
    } catch {
      return [] // never declared: nothing was dead-lettered for this group
    }
    const contents: Uint8Array[] = []
    while (contents.length < DEAD_LETTER_READ_LIMIT) {
      const message = await channel.get(queue, { noAck: false })
      if (message === false) break
      contents.push(message.content)
    }
    return contents
  })
}
