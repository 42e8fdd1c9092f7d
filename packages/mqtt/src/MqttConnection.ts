import { BridgeUnavailableError, type Logger } from '@conduit/core'
import {
  connect,
  type IClientOptions,
  type IClientPublishOptions,
  type IPublishPacket,
  type MqttClient,
} from 'mqtt'
import { firstConnack } from './firstConnack.js'
import type { MqttClientOptions } from './options.js'
import {
  type AcknowledgedHandler,
  type MessageHandler,
  type Subscription,
  SubscriptionTable,
} from './SubscriptionTable.js'

export type { AcknowledgedHandler, MessageHandler } from './SubscriptionTable.js'

export interface ConnectionSpec {
  url: string
  clientId: string
  /** persistent session (clean start false) kept this many seconds; absent: the session ends with the connection */
  sessionExpiry?: number
  will?: IClientOptions['will']
  /** how many unacknowledged QoS 1 messages the broker may send at once */
  receiveMaximum?: number
  /**
   * Handles QoS 1 messages that match no subscription of this connection: messages an adopted
   * session queued under its previous owner's subscription identifiers. Without it they are acknowledged.
   */
  unrouted?: AcknowledgedHandler
  /** first subscription identifier this connection assigns; default 1 */
  firstSubscriptionId?: number
  reconnect: boolean
  connectTimeout: number
  publishTimeout: number
  mqtt: MqttClientOptions
  logger: Logger
}

const SESSION_TAKEN_OVER = 0x8e

/**
 * One mqtt.js client with what the bridge needs around it: MQTT 5 only, subscriptions routed by
 * subscription identifier (so overlapping filters on one connection never cross), resubscription
 * after every reconnect, and publishes that wait a bounded time for the connection instead of
 * queueing without limit.
 */
export class MqttConnection {
  /** the broker's Maximum Packet Size from the last CONNACK, if it announced one */
  maximumPacketSize: number | undefined
  /** set when another connection took this client id over (MQTT 5 reason 0x8E) */
  onTakenOver: (() => void) | undefined
  /** called after every reconnect, once the subscriptions are back */
  onReconnect: (() => void) | undefined
  private readonly client: MqttClient
  private readonly subscriptions: SubscriptionTable
  private closing = false
  private offlineSince: number | undefined
  /** whether the broker still had this client's session at the last connect */
  sessionPresent = false

  private constructor(private readonly spec: ConnectionSpec) {
    this.subscriptions = new SubscriptionTable(spec.firstSubscriptionId)
    const properties: NonNullable<IClientOptions['properties']> = {
      sessionExpiryInterval: spec.sessionExpiry ?? 0,
    }
    if (spec.receiveMaximum !== undefined) properties.receiveMaximum = spec.receiveMaximum
    const options: IClientOptions = {
      reconnectPeriod: 1_000,
      ...spec.mqtt,
      protocolVersion: 5,
      clientId: spec.clientId,
      clean: spec.sessionExpiry === undefined,
      properties,
      resubscribe: false, // done here, with the subscription identifiers mqtt.js would drop
      connectTimeout: spec.connectTimeout,
      customHandleAcks: (topic, payload, packet, done) => this.acknowledge(topic, payload, packet, done),
    }
    if (!spec.reconnect) options.reconnectPeriod = 0
    if (spec.will) options.will = spec.will
    this.client = connect(spec.url, options)
    this.client.on('message', (topic, payload, packet) => this.route(topic, payload, packet, false))
    this.client.on('connect', (connack) => {
      // Nagle's algorithm holds a small packet back until the previous one is acknowledged,
      // and the peer delays that acknowledgement (40 ms on Linux): a QoS 1 round trip stalls
      // on it. mqtt.js leaves it on; commands are latency-bound, so turn it off.
      ;(this.client.stream as { setNoDelay?: (noDelay: boolean) => void }).setNoDelay?.(true)
      this.sessionPresent = connack.sessionPresent
      this.maximumPacketSize = connack.properties?.maximumPacketSize
      if (this.offlineSince !== undefined) {
        spec.logger.info(
          { clientId: spec.clientId, offlineMs: Date.now() - this.offlineSince },
          'mqtt reconnected',
        )
        this.offlineSince = undefined
        void this.resubscribe().then(() => this.onReconnect?.())
      }
    })
    this.client.on('offline', () => {
      if (this.closing || this.offlineSince !== undefined) return
      this.offlineSince = Date.now()
      spec.logger.warn({ clientId: spec.clientId }, 'mqtt connection lost; reconnecting')
    })
    this.client.on('disconnect', (packet) => {
      if (packet.reasonCode === SESSION_TAKEN_OVER && !this.closing) {
        // Someone adopted this session: reconnecting would take it back and fight over it.
        this.closing = true
        this.client.end(true)
        this.onTakenOver?.()
      }
    })
    this.client.on('error', (error) => {
      if (!this.closing)
        spec.logger.warn({ clientId: spec.clientId, reason: error.message }, 'mqtt client error')
    })
  }

  /** Connects and resolves at the first CONNACK, or rejects with BridgeUnavailableError. */
  static async open(spec: ConnectionSpec): Promise<MqttConnection> {
    const connection = new MqttConnection(spec)
    const { client } = connection
    try {
      await firstConnack(client, spec.connectTimeout)
    } catch (error) {
      connection.closing = true
      client.end(true)
      throw new BridgeUnavailableError(`mqtt: cannot connect to ${spec.url}: ${(error as Error).message}`, {
        cause: error,
      })
    }
    return connection
  }

  get clientId(): string {
    return this.spec.clientId
  }

  get connected(): boolean {
    return this.client.connected
  }

  /** false once closed or taken over: the client will not come back by itself */
  get alive(): boolean {
    return !this.closing
  }

  /** Subscribes; resolves after the SUBACK. The returned function unsubscribes. */
  async subscribe(filter: string, qos: 0 | 1, handle: MessageHandler): Promise<() => Promise<void>> {
    return this.addSubscription(filter, qos, handle, false)
  }

  /** Subscribes at QoS 1 with the PUBACK sent only when `handle` resolves 'ack'. */
  async subscribeAcknowledged(filter: string, handle: AcknowledgedHandler): Promise<() => Promise<void>> {
    return this.addSubscription(filter, 1, handle, true)
  }

  /** Removes a subscription (a no-op if this connection never made it). */
  async unsubscribe(filter: string): Promise<void> {
    this.subscriptions.remove(filter)
    if (this.client.connected) await this.client.unsubscribeAsync(filter)
  }

  /**
   * Publishes; resolves when written (QoS 0) or acknowledged by the broker (QoS 1). Waits at
   * most `publishTimeout` for a lost connection to come back, then fails with a 503; so does a
   * QoS 1 publish the broker does not acknowledge in that time, unless `unbounded` (a caller
   * with its own deadline, like a command's, need not pay for a second timer).
   */
  async publish(
    topic: string,
    payload: Uint8Array | string,
    options: IClientPublishOptions,
    unbounded = false,
  ): Promise<void> {
    if (!this.client.connected) await this.waitConnected()
    // A Buffer view of the same bytes: mqtt.js copies non-Buffer payloads element by element.
    const body =
      typeof payload === 'string' || Buffer.isBuffer(payload)
        ? payload
        : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)
    return new Promise<void>((resolve, reject) => {
      const timer =
        options.qos === 1 && !unbounded
          ? setTimeout(
              () =>
                reject(
                  this.unavailable(
                    `the broker did not confirm the publish within ${this.spec.publishTimeout} ms`,
                  ),
                ),
              this.spec.publishTimeout,
            )
          : undefined
      this.client.publish(topic, body, options, (error) => {
        if (timer) clearTimeout(timer)
        if (error) reject(this.unavailable(`publish failed: ${error.message}`))
        else resolve()
      })
    })
  }

  /**
   * Ends the connection with a normal DISCONNECT (the broker discards the will). `endSession`
   * discards a persistent session too; `force` drops the socket without waiting for
   * acknowledgements in flight (the broker then publishes the will).
   */
  async close(options: { endSession?: boolean; force?: boolean } = {}): Promise<void> {
    if (options.force || (this.closing && !this.client.connected)) {
      this.closing = true
      await new Promise<void>((resolve) => this.client.end(true, () => resolve()))
      return
    }
    this.closing = true
    const disconnect: { properties?: { sessionExpiryInterval: number } } = {}
    if (options.endSession && this.spec.sessionExpiry !== undefined)
      disconnect.properties = { sessionExpiryInterval: 0 }
    await new Promise<void>((resolve) => {
      // end(false) waits for in-flight acknowledgements; do not wait for a broker that is gone.
      const timer = setTimeout(() => this.client.end(true, () => resolve()), 2_000)
      this.client.end(false, disconnect, () => {
        clearTimeout(timer)
        resolve()
      })
    })
  }

  private waitConnected(): Promise<void> {
    if (this.closing) return Promise.reject(this.unavailable('the connection is closed'))
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.client.off('connect', onConnect)
        reject(this.unavailable(`not connected to the broker for ${this.spec.publishTimeout} ms`))
      }, this.spec.publishTimeout)
      const onConnect = () => {
        clearTimeout(timer)
        resolve()
      }
      this.client.once('connect', onConnect)
    })
  }

  private unavailable(reason: string): BridgeUnavailableError {
    return new BridgeUnavailableError(`mqtt (${this.spec.url}): ${reason}`)
  }

  private async addSubscription(
    filter: string,
    qos: 0 | 1,
    handle: MessageHandler | AcknowledgedHandler,
    acknowledged: boolean,
  ): Promise<() => Promise<void>> {
    const subscription = this.subscriptions.add(filter, qos, handle, acknowledged)
    try {
      await this.sendSubscribe(subscription)
    } catch (error) {
      this.subscriptions.remove(filter)
      throw error
    }
    return () => this.unsubscribe(filter)
  }

  private async sendSubscribe(subscription: Subscription): Promise<void> {
    if (!this.client.connected) await this.waitConnected()
    await this.client.subscribeAsync(subscription.filter, {
      qos: subscription.qos,
      properties: { subscriptionIdentifier: subscription.id },
    })
  }

  private async resubscribe(): Promise<void> {
    // Always, not only when the session is gone: a persistent session may have lost a
    // subscription to an adopter that took it over while this client was away.
    for (const subscription of this.subscriptions.all()) {
      await this.sendSubscribe(subscription).catch((error: Error) =>
        this.spec.logger.error(
          { filter: subscription.filter, reason: error.message },
          'mqtt resubscribe failed',
        ),
      )
    }
  }

  private route(topic: string, payload: Buffer, packet: IPublishPacket, acknowledged: boolean): void {
    for (const subscription of this.subscriptions.of(packet)) {
      if (subscription.acknowledged === acknowledged)
        (subscription.handle as MessageHandler)(topic, payload, packet)
    }
  }

  private acknowledge(
    topic: string,
    payload: Buffer,
    packet: IPublishPacket,
    done: (code: number) => void,
  ): void {
    const subscriptions = this.subscriptions.of(packet)
    const handle =
      subscriptions.length === 0
        ? this.spec.unrouted
        : (subscriptions.find((candidate) => candidate.acknowledged)?.handle as
            | AcknowledgedHandler
            | undefined)
    if (!handle) {
      done(0)
      return
    }
    handle(topic, payload, packet).then(
      (verdict) => {
        if (verdict === 'ack') done(0)
      },
      (error: Error) =>
        this.spec.logger.error(
          { reason: error.message, topic },
          'mqtt message handling failed; not acknowledged',
        ),
    )
  }
}
