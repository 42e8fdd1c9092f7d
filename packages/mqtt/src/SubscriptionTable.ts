import type { IPublishPacket } from 'mqtt'

export type MessageHandler = (topic: string, payload: Buffer, packet: IPublishPacket) => void
/**
 * Handles a QoS 1 message whose PUBACK waits for the outcome: 'ack' sends it, 'hold' never
 * does (the message stays unacknowledged in the session). mqtt.js handles the packets of one
 * connection in order, so such a connection processes one message at a time.
 */
export type AcknowledgedHandler = (
  topic: string,
  payload: Buffer,
  packet: IPublishPacket,
) => Promise<'ack' | 'hold'>

export interface Subscription {
  readonly filter: string
  readonly qos: 0 | 1
  /** MQTT 5 subscription identifier: the broker stamps it on every message the subscription delivers */
  readonly id: number
  readonly handle: MessageHandler | AcknowledgedHandler
  readonly acknowledged: boolean
}

/**
 * The subscriptions of one connection, by filter and by subscription identifier. Routing by
 * identifier rather than by matching topics keeps overlapping filters apart: a message a
 * shared subscription of group A delivered is never handed to group B's listener.
 */
export class SubscriptionTable {
  private readonly byFilter = new Map<string, Subscription>()
  private readonly byId = new Map<number, Subscription>()

  constructor(private nextId = 1) {}

  add(
    filter: string,
    qos: 0 | 1,
    handle: MessageHandler | AcknowledgedHandler,
    acknowledged: boolean,
  ): Subscription {
    const subscription: Subscription = { filter, qos, id: this.nextId++, handle, acknowledged }
    this.byFilter.set(filter, subscription)
    this.byId.set(subscription.id, subscription)
    return subscription
  }

  remove(filter: string): void {
    const subscription = this.byFilter.get(filter)
    if (!subscription) return
    this.byFilter.delete(filter)
    this.byId.delete(subscription.id)
  }

  all(): Iterable<Subscription> {
    return this.byFilter.values()
  }

  /** The subscriptions that delivered `packet` (one copy per matching subscription in MQTT 5). */
  of(packet: IPublishPacket): Subscription[] {
    const ids = packet.properties?.subscriptionIdentifier
    if (ids === undefined) return []
    if (!Array.isArray(ids)) {
      const one = this.byId.get(ids)
      return one ? [one] : []
    }
    return ids.flatMap((id) => this.byId.get(id) ?? [])
  }
}
