import type { EventListenerSpec, EventReceiver, Logger } from '@conduit/core'
import type { IPublishPacket } from 'mqtt'
import type { DeadLetters } from '../DeadLetters.js'

/** Pause between attempts to publish a dead letter while the broker does not confirm it. */
const DEAD_LETTER_RETRY_MS = 1_000

/**
 * Runs one durable message through the engine until it may be acknowledged: handled, or
 * dead-lettered. MQTT has no broker-side redelivery delay and no negative acknowledgement, so
 * a failed attempt is retried here, after the engine's backoff, while the message stays
 * unacknowledged in the session: if this process dies meanwhile, the session still holds it
 * and another member adopts it (see OrphanAdopter).
 */
export class DurableDelivery {
  private closing = false
  private readonly wakeups = new Set<() => void>()

  constructor(
    private readonly spec: EventListenerSpec,
    private readonly receive: EventReceiver,
    private readonly deadLetters: DeadLetters,
    private readonly logger: Logger,
  ) {}

  get isClosing(): boolean {
    return this.closing
  }

  /** 'ack' once the message is done with; 'hold' leaves it unacknowledged for another member. */
  async deliver(topic: string, payload: Buffer, packet: IPublishPacket): Promise<'ack' | 'hold'> {
    if (this.closing) return 'hold'
    // The DUP flag says the broker sent it before (to a member that crashed or lost its
    // connection): count that as an attempt, since it may have run.
    let attempt = packet.dup ? 2 : 1
    for (;;) {
      const outcome = await this.receive(payload, { attempt })
      if (outcome.action === 'ack') return 'ack'
      if (outcome.action === 'dead-letter') return this.deadLetter(topic, payload, outcome.reason, attempt)
      if (!(await this.pause(outcome.delayMs))) return 'hold'
      attempt++
    }
  }

  /** Stops taking messages and interrupts backoff pauses. */
  close(): void {
    this.closing = true
    for (const wake of this.wakeups) wake()
  }

  private async deadLetter(
    topic: string,
    payload: Buffer,
    reason: string,
    attempt: number,
  ): Promise<'ack' | 'hold'> {
    for (;;) {
      try {
        await this.deadLetters.publish(this.spec.group, payload, { reason, attempt, topic })
        return 'ack'
      } catch (error) {
        this.logger.error(
          { group: this.spec.group, reason: (error as Error).message },
          'mqtt: could not dead-letter; retrying',
        )
        if (!(await this.pause(DEAD_LETTER_RETRY_MS))) return 'hold'
      }
    }
  }

  /** Resolves true after `ms`, or false at once if the delivery is closing. */
  private pause(ms: number): Promise<boolean> {
    if (this.closing) return Promise.resolve(false)
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer)
        this.wakeups.delete(wake)
        resolve(false)
      }
      const timer = setTimeout(() => {
        this.wakeups.delete(wake)
        resolve(true)
      }, ms)
      this.wakeups.add(wake)
    })
  }
}
