import { ConduitError, type EventBridgeOptions } from '@conduit/core'
import type { IClientOptions } from 'mqtt'

export const MQTT_BRIDGE_NAME = 'mqtt'
export const DEFAULT_MQTT_URL = 'mqtt://127.0.0.1:1883'

/**
 * MQTT's largest packet (remaining length 268,435,455 bytes, MQTT 5 §1.5.5), which is also
 * Mosquitto's default `max_packet_size` (no limit below the protocol's). A broker that
 * announces a smaller Maximum Packet Size in its CONNACK lowers the limit at connect.
 */
export const MQTT_MAX_PACKET_BYTES = 268_435_455

/** Room left in a packet for the fixed header, topic and properties (response topic, correlation data, expiry). */
export const PACKET_OVERHEAD_BYTES = 4_096

/** Connection settings passed to mqtt.js as they are (credentials, TLS, keepalive, reconnect period). */
export type MqttClientOptions = Omit<
  IClientOptions,
  'clientId' | 'clean' | 'properties' | 'will' | 'customHandleAcks' | 'resubscribe' | 'manualConnect'
>

export interface MqttBridgeOptions extends EventBridgeOptions {
  /** broker URL; default mqtt://127.0.0.1:1883 */
  url?: string
  /** topic levels every topic of this application lives under; default 'conduit' */
  prefix?: string
  /** start of every client id this bridge uses; default 'conduit' */
  clientIdBase?: string
  /**
   * QoS of commands and responses; default 0. 0: at most one execution, no acknowledgements; a
   * lost command ends in the caller's timeout. 1: the broker confirms each command, a resend
   * after a reconnect can run it twice, and on a broker with Nagle on (Mosquitto's default) each
   * round trip stalls ~40 ms on delayed TCP acknowledgements (docs/bridges/mqtt.md).
   */
  commandQos?: 0 | 1
  /** seconds a durable member's session (and its queued events) outlives its connection; default 86400 */
  sessionExpiry?: number
  /**
   * seconds a crashed durable member has to reconnect before another member adopts its session
   * (MQTT 5 Will Delay Interval); default 5
   */
  orphanDelay?: number
  /** ms a publish waits for the connection and the broker's confirmation before failing with 503; default 5000 */
  publishTimeout?: number
  /** ms start() waits for the first connection; default 10000 */
  connectTimeout?: number
  /** largest encoded envelope in bytes; default what the broker allows (Mosquitto: 256 MiB) */
  maxPayloadBytes?: number
  /** extra mqtt.js options (username, password, TLS, keepalive, reconnectPeriod) */
  mqtt?: MqttClientOptions
  /**
   * Watch each durable session's packet identifiers for events the broker dropped, and report
   * every gap (error log, `conduit.messaging.lost`, a record `readEventLoss` returns); default
   * true. Turn off for a broker that does not number a session's messages consecutively.
   */
  detectLoss?: boolean
  /**
   * The broker keeps every queued event (Mosquitto: `max_queued_messages 0`; see
   * docs/bridges/mqtt.md): silences the warning the first durable subscription logs. Default false.
   */
  brokerQueuesUnbounded?: boolean
}

export interface ResolvedMqttOptions {
  url: string
  prefix: string
  clientIdBase: string
  commandQos: 0 | 1
  sessionExpiry: number
  orphanDelay: number
  publishTimeout: number
  connectTimeout: number
  maxPayloadBytes: number
  mqtt: MqttClientOptions
  detectLoss: boolean
  brokerQueuesUnbounded: boolean
}

function invalidOption(message: string): ConduitError {
  return new ConduitError(500, 'INVALID_OPTION', `MqttBridge: ${message}`, false)
}

/** Applies defaults and refuses what this bridge cannot do, before anything connects. */
export function resolveMqttOptions(options: MqttBridgeOptions): ResolvedMqttOptions {
  const mqtt = options.mqtt ?? {}
  if (mqtt.protocolVersion !== undefined && mqtt.protocolVersion !== 5) {
    const name =
      mqtt.protocolVersion === 4 ? 'MQTT 3.1.1' : mqtt.protocolVersion === 3 ? 'MQTT 3.1' : 'that protocol'
    throw invalidOption(
      `protocolVersion ${mqtt.protocolVersion} (${name}) is not supported: the bridge needs MQTT 5 ` +
        '(shared subscriptions, response topic and correlation data, message expiry, session expiry, subscription identifiers). ' +
        'Remove protocolVersion or set it to 5.',
    )
  }
  const commandQos = options.commandQos ?? 0
  if (commandQos !== 0 && commandQos !== 1)
    throw invalidOption(`commandQos must be 0 or 1, got ${String(commandQos)}`)
  const resolved: ResolvedMqttOptions = {
    url: options.url ?? DEFAULT_MQTT_URL,
    prefix: options.prefix ?? 'conduit',
    clientIdBase: options.clientIdBase ?? 'conduit',
    commandQos,
    sessionExpiry: options.sessionExpiry ?? 86_400,
    orphanDelay: options.orphanDelay ?? 5,
    publishTimeout: options.publishTimeout ?? 5_000,
    connectTimeout: options.connectTimeout ?? 10_000,
    maxPayloadBytes: options.maxPayloadBytes ?? MQTT_MAX_PACKET_BYTES - PACKET_OVERHEAD_BYTES,
    mqtt,
    detectLoss: options.detectLoss ?? true,
    brokerQueuesUnbounded: options.brokerQueuesUnbounded ?? false,
  }
  if (/[+#/\s]/.test(resolved.clientIdBase) || resolved.clientIdBase.length === 0) {
    throw invalidOption(
      `clientIdBase ${JSON.stringify(resolved.clientIdBase)} must be non-empty without '+', '#', '/' or spaces`,
    )
  }
  // The will (orphan marker) must fire before the session it points to expires.
  if (!(resolved.orphanDelay >= 1 && resolved.orphanDelay < resolved.sessionExpiry)) {
    throw invalidOption(
      `orphanDelay must be at least 1 s and below sessionExpiry (${resolved.sessionExpiry} s)`,
    )
  }
  if (!(resolved.maxPayloadBytes > 0)) throw invalidOption('maxPayloadBytes must be positive')
  return resolved
}
