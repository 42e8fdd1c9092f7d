import type { TransportHost } from '@conduit/core/transport'
import type { IPublishPacket, MqttClient } from 'mqtt'

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

/** How a subscription's messages are handled: acknowledged on receipt, or after the handler's verdict. */
export type Handling =
  | { readonly acknowledged: false; readonly handle: MessageHandler }
  | { readonly acknowledged: true; readonly handle: AcknowledgedHandler }

type Subscription = Handling & {
  readonly filter: string
  readonly qos: 0 | 1
  /** MQTT 5 subscription identifier: the broker stamps it on every message the subscription delivers */
  readonly id: number
  /** unsubscribed on the broker but still routed (messages already on their way); not restored */
  paused: boolean
}

/** One subscription of a connection, stopped in the engine's two steps. */
export interface SubscriptionHandle {
  /** unsubscribes on the broker; messages already on their way are still handled */
  pause(): Promise<void>
  /** stops handling (after unsubscribing, if pause was skipped) */
  close(): Promise<void>
}

/** Pause before subscribing again what the broker refused after a reconnect. */
const RESUBSCRIBE_RETRY_MS = 1_000

/**
 * The subscriptions of one connection, routed by subscription identifier rather than by
 * matching topics: overlapping filters stay apart (a message a shared subscription of group A
 * delivered never reaches group B's listener), and a paused subscription and its successor on
 * the same filter never cross.
 */
export class Subscriptions {
  private readonly byId = new Map<number, Subscription>()

  constructor(
    private readonly client: MqttClient,
    private readonly host: Pick<TransportHost, 'reportFailure'>,
    /** handles QoS 1 messages no subscription of this connection delivered (see ConnectionSpec.unrouted) */
    private readonly unrouted: AcknowledgedHandler | undefined,
    private nextId = 1,
  ) {}

  /** Subscribes now (the connection is up); resolves after the SUBACK. */
  async add(filter: string, qos: 0 | 1, handling: Handling): Promise<SubscriptionHandle> {
    const subscription: Subscription = { ...handling, filter, qos, id: this.nextId++, paused: false }
    this.byId.set(subscription.id, subscription)
    try {
      await this.send(subscription)
    } catch (error) {
      this.byId.delete(subscription.id)
      throw error
    }
    const pause = async () => {
      if (subscription.paused) return
      subscription.paused = true
      if (this.client.connected) await this.client.unsubscribeAsync(filter)
    }
    return {
      pause,
      close: async () => {
        try {
          await pause()
        } finally {
          this.byId.delete(subscription.id)
        }
      },
    }
  }

  /**
   * Subscribes everything again after a CONNACK, all at once; a refused one is reported and
   * tried again. Resolves true once all are back, false if `current()` turned false meanwhile
   * (the connection dropped again: the next CONNACK restores).
   */
  async restore(current: () => boolean): Promise<boolean> {
    let missing = [...this.byId.values()].filter((subscription) => !subscription.paused)
    while (missing.length > 0) {
      const results = await Promise.allSettled(missing.map((subscription) => this.send(subscription)))
      if (!current()) return false
      const failed: Subscription[] = []
      for (const [index, subscription] of missing.entries()) {
        const result = results[index]
        if (result?.status !== 'rejected') continue
        this.host.reportFailure('subscribe again after reconnecting', result.reason, {
          filter: subscription.filter,
        })
        if (!subscription.paused) failed.push(subscription)
      }
      missing = failed
      if (missing.length > 0) await new Promise((resolve) => setTimeout(resolve, RESUBSCRIBE_RETRY_MS))
      if (!current()) return false
    }
    return true
  }

  /** mqtt.js 'message': what needs no acknowledgement from the handler. */
  route(topic: string, payload: Buffer, packet: IPublishPacket): void {
    for (const subscription of this.deliverers(packet)) {
      if (subscription.acknowledged) continue
      try {
        subscription.handle(topic, payload, packet)
      } catch (error) {
        this.host.reportFailure('handle a message', error, { topic })
      }
    }
  }

  /** mqtt.js customHandleAcks: the PUBACK waits for an acknowledged subscription's verdict. */
  acknowledge(topic: string, payload: Buffer, packet: IPublishPacket, done: (code: number) => void): void {
    const subscriptions = this.deliverers(packet)
    let handle = subscriptions.length === 0 ? this.unrouted : undefined
    for (const subscription of subscriptions) if (subscription.acknowledged) handle = subscription.handle
    if (!handle) {
      done(0)
      return
    }
    handle(topic, payload, packet).then(
      (verdict) => {
        if (verdict === 'ack') done(0)
      },
      (error: unknown) => this.host.reportFailure('handle a message; not acknowledged', error, { topic }),
    )
  }

  private async send(subscription: Subscription): Promise<void> {
    await this.client.subscribeAsync(subscription.filter, {
      qos: subscription.qos,
      properties: { subscriptionIdentifier: subscription.id },
    })
  }

  /** The subscriptions that delivered `packet` (one copy per matching subscription in MQTT 5). */
  private deliverers(packet: IPublishPacket): Subscription[] {
    const ids = packet.properties?.subscriptionIdentifier
    if (ids === undefined) return []
    if (!Array.isArray(ids)) {
      const one = this.byId.get(ids)
      return one ? [one] : []
    }
    return ids.flatMap((id) => this.byId.get(id) ?? [])
  }
}
