import { randomUUID } from 'node:crypto'
import { MqttConnection, type SubscriptionHandle } from '../MqttConnection.js'
import type { DurableDelivery } from './DurableDelivery.js'
import {
  clearMarker,
  type DurableEnvironment,
  decodeMarker,
  type OrphanMarker,
  orphanWill,
  watchPacketIds,
} from './environment.js'

/** Spreads adopters of one marker apart, so that usually one of them connects first and alone. */
const ADOPTION_JITTER_MS = 200
const ADOPTER_SUBSCRIPTION_IDS = 1_000_000

/**
 * Takes over the sessions of stopped or crashed members of one durable group and drains them.
 *
 * Why: Mosquitto (like the MQTT spec allows) keeps sending a shared subscription's share to a
 * member whose connection is gone, queueing it in that member's session. Left alone, those
 * events wait for a client id that never comes back. So each live member watches the group's
 * orphan markers; for each, it connects with the orphan's client id (clean start false),
 * removes the shared subscription so nothing new is queued there, handles what is queued (the
 * same delivery as its own: ack after success, retries, dead letters), and ends the session
 * once a sentinel it sent itself comes through. If two members adopt at once, the broker's
 * session takeover (reason 0x8E) leaves one; unacknowledged messages go to the survivor.
 */
export class OrphanAdopter {
  private queue: Promise<void> = Promise.resolve()
  private closed = false
  private interrupt: (() => void) | undefined
  private markers: SubscriptionHandle | undefined

  constructor(
    private readonly env: DurableEnvironment,
    private readonly group: string,
    private readonly delivery: DurableDelivery,
  ) {}

  /** Subscribes to the group's markers; retained ones (members stopped earlier) arrive at once. */
  async start(): Promise<void> {
    this.markers = await this.env
      .main()
      .subscribe(this.env.topics.orphanFilter(this.group), 1, (_topic, payload) => this.onMarker(payload))
  }

  async close(): Promise<void> {
    this.closed = true
    this.interrupt?.()
    await this.markers
      ?.close()
      .catch((error: unknown) =>
        this.env.host.reportFailure('unsubscribe from orphan markers', error, { group: this.group }),
      )
  }

  private onMarker(payload: Buffer): void {
    const marker = decodeMarker(payload)
    if (!marker || this.closed || this.env.claimed.has(marker.clientId)) return
    this.env.claimed.add(marker.clientId)
    const adoptOne = async () => {
      try {
        await new Promise((resolve) => setTimeout(resolve, Math.random() * ADOPTION_JITTER_MS))
        if (!this.closed) await this.adopt(marker)
      } catch (error) {
        this.env.host.reportFailure('adopt a stopped durable session', error, {
          group: this.group,
          orphan: marker.clientId,
        })
      } finally {
        this.env.claimed.delete(marker.clientId)
      }
    }
    this.queue = this.queue.then(adoptOne)
  }

  private async adopt(marker: OrphanMarker): Promise<void> {
    const connection = await MqttConnection.open({
      ...this.env.connectionSpec(marker.clientId),
      sessionExpiry: this.env.settings.sessionExpiry,
      receiveMaximum: 1,
      reconnect: false,
      // If this process dies while draining, the marker comes back for someone else.
      will: orphanWill(this.env, this.group, marker),
      // Queued messages carry the previous owner's subscription identifiers (members number
      // theirs from 1): this connection's own start far above, so the two never meet.
      unrouted: (topic, payload, packet) => this.delivery.deliver(topic, payload, packet),
      firstSubscriptionId: ADOPTER_SUBSCRIPTION_IDS,
      // Counted from the first message: the owner's last identifier is not a safe baseline, since
      // a racing adopter may have taken messages since (it would show as a false gap).
      ...watchPacketIds(this.env, this.group, marker.clientId),
    })
    const interrupted = new Promise<'interrupted'>((resolve) => {
      this.interrupt = () => resolve('interrupted')
      connection.onTakenOver = () => resolve('interrupted')
    })
    if (this.closed) this.interrupt?.()
    const draining = this.drain(connection, marker)
    draining.catch(() => undefined) // an interruption abandons it
    const result = await Promise.race([draining, interrupted])
    this.interrupt = undefined
    if (result === 'drained' && !this.closed) {
      await connection.close({ endSession: true })
      await clearMarker(this.env, this.group, marker.clientId)
      this.env.host.logger.info(
        { group: this.group, orphan: marker.clientId },
        'mqtt: adopted and drained a durable session',
      )
    } else {
      // Stopping or taken over: keep the session and its marker; unacknowledged messages stay in it.
      await connection.close({ force: true })
    }
  }

  private async drain(connection: MqttConnection, marker: OrphanMarker): Promise<'drained'> {
    if (!connection.sessionPresent) return 'drained' // expired or already drained by someone else
    await connection.unsubscribe(marker.filter)
    const sentinel = this.env.topics.sentinel(randomUUID())
    let arrived = () => {}
    const drained = new Promise<'drained'>((resolve) => {
      arrived = () => resolve('drained')
    })
    // The broker queues the sentinel behind everything the session already holds, and this
    // connection handles messages one at a time: when it arrives, the rest has been handled.
    await connection.subscribe(sentinel, 1, () => arrived())
    await connection.publish(sentinel, '', { qos: 1 })
    return drained
  }
}
