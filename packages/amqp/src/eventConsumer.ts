import type { DeliveryOutcome, EventListenerSpec, EventReceiver } from '@conduit/core/transport'
import type { ConsumeMessage, Options } from 'amqplib'
import { unavailable } from './AmqpConnection.js'
import type { ConsumerContext } from './ConsumerContext.js'
import { publishCopy, publishDeadLetter } from './deadLetters.js'
import type { ConsumerSetup, Settlement } from './QueueConsumer.js'
import { ATTEMPT_HEADER, attemptOf, bindingKeyFor, eventQueueOptions, sideQueueExpiry } from './topology.js'

/**
 * The consuming side of one subscription (consumer group): a queue bound to the events exchange
 * by the subscription's pattern, shared by the group's instances.
 *
 * - at-most-once: acked on receipt, so a crash never redelivers; failures are not retried.
 * - durable: acked after the handler; a retry goes to `<queue>.retry.<delayMs>`, whose TTL
 *   dead-letters it back to the group queue with the attempt header raised; after maxAttempts
 *   (or when unreadable) the engine's record goes to `<queue>.dead` with the reason.
 */
type CopyOutcome = Exclude<DeliveryOutcome, { action: 'ack' }>

export function eventConsumer(
  context: ConsumerContext,
  spec: EventListenerSpec,
  receive: EventReceiver,
): ConsumerSetup {
  const { connection, topology, record, options, logger, host } = context
  const queue = topology.eventQueue(spec.group)
  const durable = spec.delivery === 'durable'
  const sideQueue = sideQueueExpiry(spec, options.everyInstanceQueueExpiryMs)
  const retryQueues = new Set<string>()

  function retryOptions(delay: number): Options.AssertQueue {
    // One queue per delay, with a queue-level TTL: every message in it expires in arrival order,
    // so a long delay never holds back a short one (per-message TTLs only expire at the head).
    return {
      ...sideQueue,
      arguments: {
        ...sideQueue.arguments,
        'x-message-ttl': delay,
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': queue,
      },
    }
  }

  /** The copy (retry or dead letter) the outcome asks for; resolves once RabbitMQ confirmed it. */
  async function copy(message: ConsumeMessage, outcome: CopyOutcome) {
    const session = connection.session
    if (session === undefined) throw unavailable()
    const attempt = attemptOf(message)
    if (outcome.action === 'dead-letter') {
      logger.warn({ queue, reason: outcome.reason }, 'amqp: dead-lettering an event')
      const deadQueue = topology.deadLetterQueue(spec.group)
      await publishDeadLetter(session, deadQueue, sideQueue, message, outcome.record, attempt)
      return
    }
    const delay = Math.max(0, Math.round(outcome.delayMs))
    const retryQueue = topology.retryQueue(spec.group, delay)
    await publishCopy(session, retryQueue, retryOptions(delay), message, { [ATTEMPT_HEADER]: attempt + 1 })
    retryQueues.add(retryQueue)
  }

  /** At-most-once: acked on receipt; only an unreadable event is kept (dead-lettered), never retried. */
  async function keepUnreadable(message: ConsumeMessage, outcome: CopyOutcome) {
    if (outcome.action !== 'dead-letter') return
    try {
      await copy(message, outcome)
    } catch (error) {
      host.reportFailure('dead-letter an event', error, { queue, reason: outcome.reason })
    }
  }

  /** Durable: the copy the outcome asks for, confirmed, then the ack of the original. */
  async function copyThenAck(message: ConsumeMessage, settlement: Settlement, outcome: CopyOutcome) {
    // Its channel died: RabbitMQ redelivers it, so a copy now would be a duplicate.
    if (!settlement.live) return
    try {
      await copy(message, outcome)
      settlement.ack()
    } catch (error) {
      host.reportFailure(outcome.action === 'retry' ? 'retry an event' : 'dead-letter an event', error, {
        queue,
        redelivered: settlement.redelivered,
      })
      // The copy is not stored: give the original back once (the redelivery counts as an
      // attempt); a message that already came back is dropped, never looped.
      if (settlement.redelivered) settlement.discard()
      else settlement.requeue()
    }
  }

  return {
    label: `subscription ${spec.group}`,

    async declare(channel) {
      await channel.assertQueue(queue, eventQueueOptions(spec, options.everyInstanceQueueExpiryMs))
      record.queues.add(queue)
      await channel.bindQueue(queue, topology.eventsExchange, bindingKeyFor(spec.eventPattern))
      return queue
    },

    async receive(message, settlement) {
      if (!durable) settlement.ack() // at-most-once: never redelivered, even if this process dies now
      return receive(message.content, { attempt: attemptOf(message) })
    },

    apply(message, settlement, outcome) {
      if (outcome.action === 'ack') return settlement.ack() // a no-op when acked on receipt
      return durable ? copyThenAck(message, settlement, outcome) : keepUnreadable(message, outcome)
    },

    async afterClose(session) {
      // Per-instance durable queues carry a random instance key nobody will consume again.
      if (!(durable && spec.everyInstance)) return
      await session.withChannel(async (channel) => {
        for (const name of [queue, ...retryQueues]) await channel.deleteQueue(name)
      })
    },
  }
}
