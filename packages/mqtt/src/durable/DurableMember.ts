import { randomUUID } from 'node:crypto'
import type { EventListenerSpec, EventReceiver, TransportListener } from '@conduit/core/transport'
import { MqttConnection } from '../MqttConnection.js'
import { sharedFilter } from '../topics.js'
import { DurableDelivery } from './DurableDelivery.js'
import {
  clearMarker,
  type DurableEnvironment,
  encodeMarker,
  type OrphanMarker,
  orphanWill,
  watchPacketIds,
} from './environment.js'
import { OrphanAdopter } from './OrphanAdopter.js'

/**
 * One instance's membership in a durable subscription: its own connection with a persistent
 * session (clean start false, session expiry), subscribed at QoS 1 to `$share/<group>/<filter>`
 * (a plain subscription for everyInstance), acknowledging each message only after the handler
 * succeeded. The broker sends it one message at a time (Receive Maximum 1), so what the member
 * has not taken stays queued in the broker, not in this process.
 *
 * Stopping keeps the session and its subscription, so events keep being stored while no member
 * runs, and publishes an orphan marker so that a live member drains it (OrphanAdopter). The
 * engine stops it in two steps: pause (take nothing new, stop adopting) and, once the engine
 * drained the handlers in flight, close.
 */
export class DurableMember implements TransportListener {
  private connection: MqttConnection | undefined
  private readonly delivery: DurableDelivery
  private readonly adopter: OrphanAdopter | undefined
  private readonly filter: string

  constructor(
    private readonly env: DurableEnvironment,
    private readonly spec: EventListenerSpec,
    receive: EventReceiver,
  ) {
    const eventFilter = env.topics.eventFilter(spec.eventPattern)
    this.filter = spec.everyInstance ? eventFilter : sharedFilter(spec.group, eventFilter)
    this.delivery = new DurableDelivery(spec, receive, env.deadLetters, env.host)
    // An everyInstance group belongs to one instance: nobody else will ever adopt its sessions.
    if (!spec.everyInstance) this.adopter = new OrphanAdopter(env, spec.group, this.delivery)
  }

  get ready(): boolean {
    return this.connection?.ready ?? false
  }

  async start(): Promise<void> {
    this.connection = await this.openSession()
    await this.adopter?.start()
  }

  /**
   * Takes nothing new: a message that arrives now, or whose retry is due, stays unacknowledged in
   * the session. The subscription stays, so events keep being stored for the group.
   */
  async pause(): Promise<void> {
    this.delivery.stop()
    await this.adopter?.close()
  }

  async close(): Promise<void> {
    await this.pause()
    const connection = this.connection
    if (!connection) return
    this.env.claimed.delete(connection.clientId)
    if (this.spec.everyInstance) {
      await connection.close({ endSession: true })
      return
    }
    await connection.close()
    const marker: OrphanMarker = { clientId: connection.clientId, filter: this.filter }
    try {
      const topic = this.env.topics.orphan(this.spec.group, connection.clientId)
      await this.env.main().publish(topic, encodeMarker(marker), { qos: 1, retain: true })
    } catch (error) {
      // The normal DISCONNECT discarded the will: without the marker no member learns of this
      // session until it expires. Say what is left behind.
      this.env.host.reportFailure(
        'mark a stopped durable session for adoption (its queued events wait until it expires)',
        error,
        { group: this.spec.group, session: connection.clientId },
      )
    }
  }

  private async openSession(): Promise<MqttConnection> {
    const clientId = `${this.env.settings.clientIdBase}-${randomUUID()}`
    const marker: OrphanMarker = { clientId, filter: this.filter }
    this.env.claimed.add(clientId)
    const connection = await MqttConnection.open({
      ...this.env.connectionSpec(clientId),
      sessionExpiry: this.env.settings.sessionExpiry,
      receiveMaximum: 1,
      reconnect: true,
      // A new session: the broker numbers its messages from 1 (set at the CONNACK).
      ...watchPacketIds(this.env, this.spec.group, clientId),
      ...(this.spec.everyInstance ? {} : { will: orphanWill(this.env, this.spec.group, marker) }),
    })
    connection.onTakenOver = () => this.replaceSession(clientId)
    // Back after an outage long enough for the will to fire: withdraw the marker (an adopter
    // that already saw it takes the session over, and this member starts a new one).
    connection.onReconnect = () => {
      if (this.spec.everyInstance) return
      clearMarker(this.env, this.spec.group, clientId).catch((error: unknown) =>
        this.env.host.reportFailure('withdraw an orphan marker', error, { group: this.spec.group }),
      )
    }
    try {
      await connection.subscribeAcknowledged(this.filter, (topic, payload, packet) =>
        this.delivery.deliver(topic, payload, packet),
      )
    } catch (error) {
      this.env.claimed.delete(clientId)
      await connection.close({ endSession: true })
      throw error
    }
    return connection
  }

  /** Another member adopted this session (we were away too long): carry on with a new one. */
  private replaceSession(previousClientId: string): void {
    this.env.claimed.delete(previousClientId)
    if (this.delivery.isStopped) return
    this.env.host.logger.warn(
      { group: this.spec.group, session: previousClientId },
      'mqtt: durable session adopted by another member; starting a new one',
    )
    this.openSession().then(
      (connection) => {
        this.connection = connection
      },
      (error: unknown) =>
        this.env.host.reportFailure('start a new durable session', error, { group: this.spec.group }),
    )
  }
}
