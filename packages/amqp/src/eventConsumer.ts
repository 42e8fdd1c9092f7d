import type { DeliveryOutcome, EventListenerSpec, EventReceiver } from '@conduit/core'
import type { ConsumeMessage, Options } from 'amqplib'
import { unavailable } from './AmqpConnection.js'
import type { AmqpSession } from './AmqpSession.js'
import type { ConsumerContext } from './ConsumerContext.js'
import { publishCopy, publishDeadLetter } from './deadLetters.js'
import type { ConsumerSetup, Settlement } from './QueueConsumer.js'
import { ATTEMPT_HEADER, bindingKeyFor, eventQueueOptions, sideQueueExpiry } from './topology.js'

/** The attempt a delivery represents: 1 unless it came back through a retry queue. */
export function attemptOf(message: ConsumeMessage): number {
  const value = Number(message.properties.headers?.[ATTEMPT_HEADER])
  return Number.isInteger(value) && value >= 1 ? value : 1
}

/**
 * The consuming side of one subscription (consumer group): a queue bound to the events exchange
 * by the subscription's pattern, shared by the group's instances.
 *
 * - at-most-once: acked on receipt, so a crash never redelivers; failures are not retried.
 * - durable: acked after the handler; a retry goes to `<queue>.retry.<delayMs>`, whose TTL
 *   dead-letters it back to the group queue with the attempt header raised; after maxAttempts
 *   (or when unreadable) a copy goes to `<queue>.dead` with the reason.
 */
export function eventConsumer(
  context: ConsumerContext,
  spec: EventListenerSpec,
  receive: EventReceiver,
): ConsumerSetup {
  const { connection, topology, record, options, logger } = context
  const queue = topology.eventQueue(spec.group)
  const durable = spec.delivery === 'durable'
  const sideQueue = sideQueueExpiry(spec, options.everyInstanceQueueExpiryMs)
  const retryQueues = new Set<string>()

  async function retry(session: AmqpSession, message: ConsumeMessage, attempt: number, delayMs: number) {
    const delay = Math.max(0, Math.round(delayMs))
    const retryQueue = topology.retryQueue(spec.group, delay)
    // One queue per delay, with a queue-level TTL: every message in it expires in arrival order,
    // so a long delay never holds back a short one (per-message TTLs only expire at the head).
    const retryOptions: Options.AssertQueue = {
      ...sideQueue,
      arguments: {
        ...sideQueue.arguments,
        'x-message-ttl': delay,
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': queue,
      },
    }
    await publishCopy(session, retryQueue, retryOptions, message, { [ATTEMPT_HEADER]: attempt + 1 })
    retryQueues.add(retryQueue)
  }

  async function settle(
    message: ConsumeMessage,
    settlement: Settlement,
    attempt: number,
    outcome: DeliveryOutcome,
  ) {
    if (outcome.action === 'ack' || (outcome.action === 'retry' && !durable)) {
      settlement.ack()
      return
    }
    // A durable delivery whose channel died is redelivered by RabbitMQ: a copy now would be a duplicate.
    if (durable && !settlement.live) return
    const session = connection.session
    if (session === undefined) throw unavailable()
    if (outcome.action === 'retry') {
      await retry(session, message, attempt, outcome.delayMs)
    } else {
      await publishDeadLetter(
        session,
        topology.deadLetterQueue(spec.group),
        sideQueue,
        message,
        outcome.reason,
      )
      logger.warn({ queue, reason: outcome.reason }, 'amqp: dead-lettered an event')
    }
    settlement.ack()
  }

  return {
    label: `subscription ${spec.group}`,

    async declare(channel) {
      await channel.assertQueue(queue, eventQueueOptions(spec, options.everyInstanceQueueExpiryMs))
      record.queues.add(queue)
      await channel.bindQueue(queue, topology.eventsExchange, bindingKeyFor(spec.eventPattern))
      return queue
    },

    async handle(message, settlement) {
      const attempt = attemptOf(message)
      if (!durable) settlement.ack() // at-most-once: never redelivered, even if this process dies now
      const outcome = await receive(message.content, { attempt })
      await settle(message, settlement, attempt, outcome)
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
