import { Socket } from 'node:net'
import { BridgeUnavailableError } from '@conduit/core'
import type { TransportHost } from '@conduit/core/transport'
import { connect, type IClientOptions, type IClientPublishOptions, type MqttClient } from 'mqtt'
import { type PacketIdGap, PacketIdGaps } from './durable/PacketIdGaps.js'
import { firstConnack } from './firstConnack.js'
import type { MqttClientOptions } from './options.js'
import { assertPublishable, bufferView } from './publishable.js'
import {
  type AcknowledgedHandler,
  type Handling,
  type MessageHandler,
  type SubscriptionHandle,
  Subscriptions,
} from './Subscriptions.js'

export type { AcknowledgedHandler, MessageHandler, SubscriptionHandle } from './Subscriptions.js'

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
  /**
   * Watches a persistent session's packet identifiers for messages the broker dropped (see
   * PacketIdGaps), counting from the first message this connection receives.
   */
  packetIds?: { onGap(gap: PacketIdGap): void }
  reconnect: boolean
  connectTimeout: number
  publishTimeout: number
  mqtt: MqttClientOptions
  host: Pick<TransportHost, 'logger' | 'reportFailure'>
}

const SESSION_TAKEN_OVER = 0x8e
/** Bound on remembered PUBACK reason codes whose publish callback has not run yet. */
const MAX_PENDING_REASONS = 10_000

/**
 * One mqtt.js client with what the bridge needs around it: MQTT 5 only, subscriptions routed by
 * subscription identifier (so overlapping filters on one connection never cross), subscriptions
 * restored after every reconnect before the connection counts as ready, and publishes that are
 * checked before they reach the socket and wait a bounded time for a ready connection.
 */
export class MqttConnection {
  /** the broker's Maximum Packet Size from the last CONNACK, if it announced one */
  maximumPacketSize: number | undefined
  /** whether the broker still had this client's session at the last connect */
  sessionPresent = false
  /** set when another connection took this client id over (MQTT 5 reason 0x8E) */
  onTakenOver: (() => void) | undefined
  /** called after every reconnect, once the subscriptions are back */
  onReconnect: (() => void) | undefined
  /** called when an established connection drops (what was sent on it may never be answered) */
  onLost: (() => void) | undefined
  private readonly client: MqttClient
  private readonly subscriptions: Subscriptions
  private closing = false
  private offlineSince: number | undefined
  /** between a CONNACK and the close of that connection */
  private up = false
  /** the subscriptions are back on the broker since the last CONNACK */
  private restored = false
  /** counts CONNACKs, so that a restore overtaken by a newer connection stops */
  private generation = 0
  private readonly readyWaiters = new Set<() => void>()
  private readonly packetIdGaps: PacketIdGaps | undefined
  /** non-zero PUBACK reason codes by packet id, until the publish callback reads them */
  private readonly pubackReasons = new Map<number, number>()

  private constructor(private readonly spec: ConnectionSpec) {
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
      customHandleAcks: (topic, payload, packet, done) =>
        this.subscriptions.acknowledge(topic, payload, packet, done),
    }
    if (!spec.reconnect) options.reconnectPeriod = 0
    if (spec.will) options.will = spec.will
    this.client = connect(spec.url, options)
    this.subscriptions = new Subscriptions(this.client, spec.host, spec.unrouted, spec.firstSubscriptionId)
    this.client.on('message', (topic, payload, packet) => this.subscriptions.route(topic, payload, packet))
    // mqtt.js resolves a publish answered with 0x10 (no matching subscribers) like any other and
    // keeps the reason code to itself: read it here, before the publish callback runs.
    this.client.on('packetreceive', (packet) => {
      if (packet.cmd !== 'puback' || packet.messageId === undefined) return
      // Every PUBACK overwrites: an entry left by a publish made around this class (bridge.client)
      // must not be read by the next publish that reuses its packet id.
      if (!packet.reasonCode) this.pubackReasons.delete(packet.messageId)
      else if (this.pubackReasons.size < MAX_PENDING_REASONS)
        this.pubackReasons.set(packet.messageId, packet.reasonCode)
    })
    const watched = spec.packetIds
    if (watched) {
      const gaps = new PacketIdGaps()
      this.packetIdGaps = gaps
      this.client.on('packetreceive', (packet) => {
        if (packet.cmd !== 'publish' || packet.qos === 0 || packet.messageId === undefined) return
        const gap = gaps.observe(packet.messageId, packet.dup)
        if (gap) watched.onGap(gap)
      })
    }
    this.client.on('connect', (connack) => {
      // Nagle's algorithm holds a small packet back until the previous one is acknowledged,
      // and the peer delays that acknowledgement (40 ms on Linux): a QoS 1 round trip stalls
      // on it. mqtt.js leaves it on; commands are latency-bound, so turn it off.
      if (this.client.stream instanceof Socket) this.client.stream.setNoDelay(true)
      this.sessionPresent = connack.sessionPresent
      // A new session (or one the broker lost): the broker numbers its messages from 1 again.
      if (!connack.sessionPresent) this.packetIdGaps?.reset(0)
      this.maximumPacketSize = connack.properties?.maximumPacketSize
      this.up = true
      const reconnected = this.offlineSince !== undefined
      if (reconnected) {
        spec.host.logger.info(
          { clientId: spec.clientId, offlineMs: Date.now() - (this.offlineSince ?? 0) },
          'mqtt reconnected',
        )
        this.offlineSince = undefined
      }
      this.restore(++this.generation, reconnected)
    })
    this.client.on('close', () => {
      this.restored = false
      if (!this.up) return
      this.up = false
      if (!this.closing) this.onLost?.()
    })
    this.client.on('offline', () => {
      if (this.closing || this.offlineSince !== undefined) return
      this.offlineSince = Date.now()
      spec.host.logger.warn({ clientId: spec.clientId }, 'mqtt connection lost; reconnecting')
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
        spec.host.logger.warn({ clientId: spec.clientId, reason: error.message }, 'mqtt client error')
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
      const reason = error instanceof Error ? error.message : String(error)
      throw new BridgeUnavailableError(`mqtt: cannot connect to ${spec.url}: ${reason}`, { cause: error })
    }
    return connection
  }

  get clientId(): string {
    return this.spec.clientId
  }

  /** The mqtt.js client underneath (for tests that cut the socket, and for diagnostics). */
  get rawClient(): MqttClient {
    return this.client
  }

  /** connected, with every subscription back in place: what was published now can be answered */
  get ready(): boolean {
    return this.client.connected && this.restored
  }

  /** false once closed or taken over, or lost with reconnecting turned off: the client will not come back by itself */
  get alive(): boolean {
    return !this.closing && (this.client.connected || (this.client.options.reconnectPeriod ?? 0) > 0)
  }

  /** Subscribes; resolves after the SUBACK. */
  subscribe(filter: string, qos: 0 | 1, handle: MessageHandler): Promise<SubscriptionHandle> {
    return this.addSubscription(filter, qos, { acknowledged: false, handle })
  }

  /** Subscribes at QoS 1 with the PUBACK sent only when `handle` resolves 'ack'. */
  subscribeAcknowledged(filter: string, handle: AcknowledgedHandler): Promise<SubscriptionHandle> {
    return this.addSubscription(filter, 1, { acknowledged: true, handle })
  }

  /** Removes a subscription from this client's session on the broker (an adopted session's, say). */
  async unsubscribe(filter: string): Promise<void> {
    if (this.client.connected) await this.client.unsubscribeAsync(filter)
  }

  /**
   * Publishes; resolves when written (QoS 0) or acknowledged by the broker (QoS 1), with the
   * PUBACK's reason code (0 success, 0x10 no matching subscribers; 0 for QoS 0). Refuses at
   * once what the broker would answer by disconnecting (a wildcard topic, a packet over its
   * Maximum Packet Size). Waits at most `publishTimeout` for the connection to be ready again,
   * then fails with a 503; so does a QoS 1 publish the broker does not acknowledge in that time,
   * unless `unbounded` (a caller with its own deadline, like a command's, needs no second timer).
   */
  async publish(
    topic: string,
    payload: Uint8Array | string,
    options: IClientPublishOptions,
    unbounded = false,
  ): Promise<number> {
    assertPublishable(topic, payload, this.maximumPacketSize)
    if (!this.ready) await this.waitReady()
    const body = bufferView(payload)
    return new Promise<number>((resolve, reject) => {
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
      this.client.publish(topic, body, options, (error, packet) => {
        if (timer) clearTimeout(timer)
        const id = packet?.messageId
        const reason = id === undefined ? undefined : this.pubackReasons.get(id)
        if (id !== undefined) this.pubackReasons.delete(id)
        if (error) reject(this.unavailable(`publish failed: ${error.message}`))
        else resolve(reason ?? 0)
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

  private waitReady(): Promise<void> {
    if (this.closing) return Promise.reject(this.unavailable('the connection is closed'))
    return new Promise<void>((resolve, reject) => {
      const wake = () => {
        clearTimeout(timer)
        this.readyWaiters.delete(wake)
        resolve()
      }
      const timer = setTimeout(() => {
        this.readyWaiters.delete(wake)
        reject(this.unavailable(`not connected to the broker for ${this.spec.publishTimeout} ms`))
      }, this.spec.publishTimeout)
      this.readyWaiters.add(wake)
    })
  }

  /** The 503 for work refused because the connection is not ready now. */
  unavailableNow(reason: string): BridgeUnavailableError {
    return this.unavailable(reason)
  }

  private unavailable(reason: string): BridgeUnavailableError {
    return new BridgeUnavailableError(`mqtt (${this.spec.url}): ${reason}`)
  }

  private async addSubscription(filter: string, qos: 0 | 1, handling: Handling): Promise<SubscriptionHandle> {
    // Ready, not only connected: a subscription added mid-restore would otherwise race it.
    if (!this.ready) await this.waitReady()
    return this.subscriptions.add(filter, qos, handling)
  }

  /**
   * Subscribes again after every CONNACK, and only then counts the connection as ready: a
   * command sent before its reply subscription (or a service's command subscription) is back
   * would be lost. Always, not only when the session is gone: a persistent session may have
   * lost a subscription to an adopter that took it over while this client was away.
   */
  private restore(generation: number, reconnected: boolean): void {
    const current = () => generation === this.generation && this.up && !this.closing
    this.subscriptions.restore(current).then(
      (restored) => {
        if (!restored) return
        this.restored = true
        for (const wake of [...this.readyWaiters]) wake()
        if (reconnected) this.onReconnect?.()
      },
      (error: unknown) => this.spec.host.reportFailure('subscribe again after reconnecting', error),
    )
  }
}
