import type { Message, Options } from 'amqplib'
import type { AmqpSession } from './AmqpSession.js'
import { DEAD_LETTER_REASON_HEADER, ORIGINAL_ROUTING_KEY_HEADER } from './topology.js'

/** readDeadLetters returns at most this many messages, oldest first. */
export const DEAD_LETTER_READ_LIMIT = 10_000

/** Properties worth keeping on a copy: the ids and type that make it traceable. */
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

/**
 * Puts a confirmed copy of `message` on `queue` with extra headers (the attempt for a retry,
 * the reason for a dead letter). The caller acks the original only after this resolves, so a
 * crash in between duplicates the message rather than losing it.
 */
export async function publishCopy(
  session: AmqpSession,
  queue: string,
  queueOptions: Options.AssertQueue,
  message: Message,
  extraHeaders: Record<string, unknown>,
): Promise<void> {
  await session.ensureQueue(queue, queueOptions)
  const headers = {
    ...message.properties.headers,
    // The first hop's routing key (the event name, the command queue): later hops only see the
    // queue a retry dead-lettered the message back to.
    [ORIGINAL_ROUTING_KEY_HEADER]:
      message.properties.headers?.[ORIGINAL_ROUTING_KEY_HEADER] ?? message.fields.routingKey,
    ...extraHeaders,
  }
  await session.publish('', queue, message.content, copiedProperties(message, headers))
}

/** Dead-letters `message` with the reason and where it was first published. */
export function publishDeadLetter(
  session: AmqpSession,
  queue: string,
  queueOptions: Options.AssertQueue,
  message: Message,
  reason: string,
): Promise<void> {
  return publishCopy(session, queue, queueOptions, message, { [DEAD_LETTER_REASON_HEADER]: reason })
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
