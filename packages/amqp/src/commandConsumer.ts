import { commandAddressKey } from '@conduit/core'
import type {
  CommandAddress,
  CommandReceiver,
  DeadLetterRecord,
  RefusedReply,
  ReplySender,
} from '@conduit/core/transport'
import type { ConsumeMessage, Options } from 'amqplib'
import { unavailable } from './AmqpConnection.js'
import { asBuffer } from './AmqpSession.js'
import type { ConsumerContext } from './ConsumerContext.js'
import { publishDeadLetter } from './deadLetters.js'
import type { ConsumerSetup, Settlement } from './QueueConsumer.js'
import { attemptOf, ENVELOPE_CONTENT_TYPE, replyToProblem } from './topology.js'

/** For a command that names no reply-to (a fire-and-forget publish by a plain AMQP client). */
const nobodyToAnswer: ReplySender = () => undefined

/**
 * The serving side of one command: a competing-consumer queue shared by every instance of the
 * service version. The queue auto-deletes with its last consumer, so once no instance serves
 * the command, mandatory publishes to it come back unroutable and callers get a 503 at once.
 *
 * A delivery is acked after the engine handled it (the handler ran and its reply was sent), so
 * `prefetch` bounds the handlers running at once per instance. A command is never requeued: it
 * is acked, or dead-lettered to `<p>.cmd.dead` and acked.
 */
export function commandConsumer(
  context: ConsumerContext,
  address: CommandAddress,
  receive: CommandReceiver,
): ConsumerSetup {
  const { connection, topology, record, logger, host } = context
  const queue = topology.commandQueue(address)

  /** Where the reply goes: validated before use, since the reply-to is whatever the sender wrote. */
  function replyRoute(message: ConsumeMessage): ReplySender | RefusedReply {
    const { replyTo, correlationId, messageId } = message.properties
    if (replyTo === undefined || replyTo === '') return nobodyToAnswer
    const problem = replyToProblem(String(replyTo))
    if (problem !== undefined) return { refused: problem }
    // Plain AMQP callers match a reply by its correlation id; Conduit's envelope says inReplyTo.
    const properties: Options.Publish = { contentType: ENVELOPE_CONTENT_TYPE }
    const replyCorrelation: unknown = correlationId ?? messageId
    if (typeof replyCorrelation === 'string') properties.correlationId = replyCorrelation
    return (response) => {
      const session = connection.session
      if (session === undefined) throw unavailable()
      session.send('', replyTo, asBuffer(response.bytes), properties)
    }
  }

  async function deadLetter(message: ConsumeMessage, settlement: Settlement, dead: DeadLetterRecord) {
    // Its channel died: RabbitMQ redelivers it, and that delivery is dead-lettered instead.
    if (!settlement.live) return
    try {
      const session = connection.session
      if (session === undefined) throw unavailable()
      await publishDeadLetter(
        session,
        topology.commandDeadLetterQueue,
        { durable: true },
        message,
        dead,
        attemptOf(message),
      )
      logger.warn({ queue, reason: dead.reason }, 'amqp: dead-lettered a command')
    } catch (error) {
      // Acked all the same: a command that cannot be read or answered must not come back.
      host.reportFailure('dead-letter a command', error, { queue, reason: dead.reason })
    }
  }

  return {
    label: `command ${commandAddressKey(address)}`,

    async declare(channel) {
      await channel.assertQueue(queue, { durable: false, autoDelete: true })
      record.queues.add(queue)
      return queue
    },

    receive: async (message) => receive(message.content, replyRoute(message)),

    apply(message, settlement, outcome) {
      // `retry` is never asked for a command; it is acked like the rest
      if (outcome.action !== 'dead-letter') return settlement.ack()
      return deadLetter(message, settlement, outcome.record).then(() => settlement.ack())
    },
  }
}
