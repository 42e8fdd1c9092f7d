import { isConduitError } from '@conduit/core'
import type {
  DeadLetterRecord,
  EventListenerSpec,
  EventReceiver,
  TransportHost,
} from '@conduit/core/transport'
import type { IPublishPacket } from 'mqtt'
import type { DeadLetterDetails, DeadLetters } from '../DeadLetters.js'

/** Pause between attempts to publish a dead letter while the broker does not confirm it. */
const DEAD_LETTER_RETRY_MS = 1_000

/**
 * Runs one durable message through the engine until it may be acknowledged: handled, or
 * dead-lettered. MQTT has no broker-side redelivery delay and no negative acknowledgement, so
 * a failed attempt is retried here, after the engine's backoff, while the message stays
 * unacknowledged in the session: if this process dies meanwhile, the session still holds it
 * and another member adopts it (see OrphanAdopter).
 *
 * Attempts: MQTT keeps no delivery count. A first delivery is attempt 1; one the broker marks
 * DUP (sent before, to a member that crashed or lost its connection) is counted as attempt 2,
 * since it may have run; each retry here adds one.
 */
export class DurableDelivery {
  private stopped = false
  private readonly wakeups = new Set<() => void>()

  constructor(
    private readonly spec: EventListenerSpec,
    private readonly receive: EventReceiver,
    private readonly deadLetters: DeadLetters,
    private readonly host: Pick<TransportHost, 'reportFailure'>,
  ) {}

  get isStopped(): boolean {
    return this.stopped
  }

  /** 'ack' once the message is done with; 'hold' leaves it unacknowledged for another member. */
  async deliver(topic: string, payload: Buffer, packet: IPublishPacket): Promise<'ack' | 'hold'> {
    if (this.stopped) return 'hold'
    let attempt = packet.dup ? 2 : 1
    for (;;) {
      const outcome = await this.receive(payload, { attempt })
      if (outcome.action === 'ack') return 'ack'
      if (outcome.action === 'dead-letter')
        return this.deadLetter(outcome.record, { attempt, topic, original: payload })
      if (!(await this.pause(outcome.delayMs))) return 'hold'
      attempt++
    }
  }

  /** Stops taking messages and interrupts backoff pauses (what is held stays in the session). */
  stop(): void {
    this.stopped = true
    for (const wake of this.wakeups) wake()
  }

  /** Acknowledges only once the dead letter is stored; until then the session keeps the message. */
  private async deadLetter(record: DeadLetterRecord, details: DeadLetterDetails): Promise<'ack' | 'hold'> {
    for (;;) {
      try {
        await this.deadLetters.publish(this.spec.group, record, details)
        return 'ack'
      } catch (error) {
        if (isConduitError(error) && !error.retryable) {
          // It can never be stored (refused before publishing): keeping it would loop forever.
          this.host.reportFailure('dead-letter (dropped)', error, { group: this.spec.group })
          return 'ack'
        }
        this.host.reportFailure('dead-letter (retrying)', error, { group: this.spec.group })
        if (!(await this.pause(DEAD_LETTER_RETRY_MS))) return 'hold'
      }
    }
  }

  /** Resolves true after `ms`, or false at once if the delivery is closing. */
  private pause(ms: number): Promise<boolean> {
    if (this.stopped) return Promise.resolve(false)
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
