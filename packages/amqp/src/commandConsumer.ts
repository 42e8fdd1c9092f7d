import {
  type CommandAddress,
  type CommandReceiver,
  commandAddressKey,
  type Envelope,
  encodeEnvelope,
  type ReplySender,
} from '@conduit/core'
import type { ConsumeMessage } from 'amqplib'
import { unavailable } from './AmqpConnection.js'
import { asBuffer } from './AmqpSession.js'
import type { ConsumerContext } from './ConsumerContext.js'
import { publishDeadLetter } from './deadLetters.js'
import type { ConsumerSetup, Settlement } from './QueueConsumer.js'
import { ENVELOPE_CONTENT_TYPE } from './topology.js'

/**
 * The serving side of one command: a competing-consumer queue shared by every instance of the
 * service version. The queue auto-deletes with its last consumer, so once no instance serves
 * the command, mandatory publishes to it come back unroutable and callers get a 503 at once.
 *
 * A delivery is acked after the handler ran and its reply was published, so `prefetch` bounds
 * the handlers running at once per instance.
 */
export function commandConsumer(
  context: ConsumerContext,
  address: CommandAddress,
  receive: CommandReceiver,
): ConsumerSetup {
  const { connection, topology, record, options, logger } = context
  const queue = topology.commandQueue(address)

  return {
    label: `command ${commandAddressKey(address)}`,

    async declare(channel) {
      await channel.assertQueue(queue, { durable: false, autoDelete: true })
      record.queues.add(queue)
      return queue
    },

    async handle(message: ConsumeMessage, settlement: Settlement) {
      const { replyTo, correlationId } = message.properties as { replyTo?: string; correlationId?: string }
      const reply: ReplySender = async (response: Envelope) => {
        if (!replyTo) return // injected or foreign command: nobody to answer
        const session = connection.session
        if (session === undefined) throw unavailable()
        const bytes = encodeEnvelope(response, options.maxPayloadBytes, 'amqp')
        session.send('', replyTo, asBuffer(bytes), { correlationId, contentType: ENVELOPE_CONTENT_TYPE })
      }
      const outcome = await receive(message.content, reply)
      if (outcome.action === 'dead-letter' && settlement.live) {
        const session = connection.session
        if (session === undefined) throw unavailable()
        await publishDeadLetter(
          session,
          topology.commandDeadLetterQueue,
          { durable: true },
          message,
          outcome.reason,
        )
        logger.warn({ queue, reason: outcome.reason }, 'amqp: dead-lettered an unreadable command')
      }
      settlement.ack()
    },
  }
}
