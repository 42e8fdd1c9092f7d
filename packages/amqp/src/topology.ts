import type { CommandAddress, EventListenerSpec } from '@conduit/core/transport'
import type { Message, Options } from 'amqplib'

/** RabbitMQ's pseudo-queue for direct reply-to: replies go straight to the calling channel. */
export const DIRECT_REPLY_TO = 'amq.rabbitmq.reply-to'

/**
 * What RabbitMQ turns `amq.rabbitmq.reply-to` into on a delivered command: the pseudo-queue, a
 * dot and an opaque token (base64 in 3.x; base64url characters allowed for later versions), 255
 * bytes at most (an AMQP short string). A name like this can only reach a caller's channel:
 * clients cannot declare `amq.*` queues, and a reply to a token nobody holds is dropped.
 */
const DIRECT_REPLY_TO_NAME = /^amq\.rabbitmq\.reply-to\.[A-Za-z0-9+/=._-]{1,233}$/

/**
 * Why a command's reply-to cannot be used, or undefined when it can. Replies go only to direct
 * reply-to names: anything else would make this service publish into a queue a sender picked
 * (another service's command queue, a subscription queue).
 */
export function replyToProblem(replyTo: string): string | undefined {
  if (DIRECT_REPLY_TO_NAME.test(replyTo)) return undefined
  const shown = replyTo.length > 80 ? `${replyTo.slice(0, 80)}…` : replyTo
  return `reply-to ${JSON.stringify(shown)} is not a direct reply-to name (${DIRECT_REPLY_TO}.<token>)`
}

/** Header carrying the delivery attempt across retry queues (1 on first delivery). */
export const ATTEMPT_HEADER = 'x-conduit-attempt'
/** Headers on dead-lettered copies: why, whether the body is a stub, and where it was first published. */
export const DEAD_LETTER_REASON_HEADER = 'x-conduit-dead-letter-reason'
export const DEAD_LETTER_STUB_HEADER = 'x-conduit-dead-letter-stub'
export const ORIGINAL_ROUTING_KEY_HEADER = 'x-conduit-original-routing-key'

export const ENVELOPE_CONTENT_TYPE = 'application/json'

/**
 * The attempt a delivery represents: the header the bridge puts on each retry copy (1 on the
 * first delivery), plus one when RabbitMQ redelivers a copy a consumer did not settle (its
 * process or connection died, or it stopped), since a handler may have run it.
 */
export function attemptOf(message: Message): number {
  const value = Number(message.properties.headers?.[ATTEMPT_HEADER])
  const copies = Number.isSafeInteger(value) && value >= 1 ? value : 1
  return message.fields.redelivered ? copies + 1 : copies
}

/**
 * Every name the bridge gives a RabbitMQ object, derived from the prefix. Names are built only
 * from Conduit identifiers, versions and event names, which core already restricts to
 * characters that are safe in queue names and routing keys.
 *
 *   exchange `<p>.events`                  topic, durable: every event, routing key = event name
 *   queue    `<p>.cmd.<svc>.v<ver>.<cmd>`  one per command, competing consumers, auto-delete
 *   queue    `<p>.cmd.dead`                commands the engine could not read
 *   queue    `<p>.evt.<group>`             one per subscription (consumer group)
 *   queue    `<p>.evt.<group>.retry.<ms>`  durable redelivery delay, dead-letters back to the group queue
 *   queue    `<p>.evt.<group>.dead`        events that failed maxAttempts times, or could not be read
 */
export class AmqpTopology {
  readonly eventsExchange: string
  readonly commandDeadLetterQueue: string

  constructor(readonly prefix: string) {
    this.eventsExchange = `${prefix}.events`
    this.commandDeadLetterQueue = `${prefix}.cmd.dead`
  }

  commandQueue(address: CommandAddress): string {
    return `${this.prefix}.cmd.${address.service}.v${address.version}.${address.command}`
  }

  eventQueue(group: string): string {
    return `${this.prefix}.evt.${group}`
  }

  retryQueue(group: string, delayMs: number): string {
    return `${this.eventQueue(group)}.retry.${delayMs}`
  }

  deadLetterQueue(group: string): string {
    return `${this.eventQueue(group)}.dead`
  }
}

/**
 * Conduit patterns to AMQP binding keys. `*` is one segment in both. A final Conduit `#` means
 * one or more segments, AMQP `#` zero or more, so `a.#` binds as `a.*.#` and `a` itself does not
 * match, exactly as in core (which re-checks every match anyway).
 */
export function bindingKeyFor(eventPattern: string): string {
  return eventPattern.endsWith('#') ? `${eventPattern.slice(0, -1)}*.#` : eventPattern
}

/** How the group queue of a subscription is declared; see docs/bridges/amqp.md. */
export function eventQueueOptions(
  spec: EventListenerSpec,
  everyInstanceExpiryMs: number,
): Options.AssertQueue {
  if (spec.delivery === 'durable') {
    // Durable per-instance queues survive a reconnect but not a long absence: their group name
    // embeds a random instance key that no later process will ever consume again.
    return spec.everyInstance
      ? { durable: true, arguments: { 'x-expires': everyInstanceExpiryMs } }
      : { durable: true }
  }
  // At-most-once: nothing to keep once no instance listens.
  return spec.everyInstance
    ? { durable: false, exclusive: true, autoDelete: true }
    : { durable: false, autoDelete: true }
}

/** Retry and dead-letter queues follow the lifetime of their group queue. */
export function sideQueueExpiry(spec: EventListenerSpec, everyInstanceExpiryMs: number): Options.AssertQueue {
  return spec.everyInstance
    ? { durable: true, arguments: { 'x-expires': everyInstanceExpiryMs } }
    : { durable: true }
}
