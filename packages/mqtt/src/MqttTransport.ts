import { randomUUID } from 'node:crypto'
import { BridgeUnavailableError, type CommandAddress, NoHandlerError } from '@conduit/core'
import {
  type BridgeCapabilities,
  type Delivery,
  type EventListenerSpec,
  type EventReceiver,
  serverAddressOf,
  supported,
  type Transport,
  type TransportHost,
  type TransportListener,
  unsupported,
} from '@conduit/core/transport'
import type { MqttClient } from 'mqtt'
import { DeadLetters } from './DeadLetters.js'
import { DurableMember } from './durable/DurableMember.js'
import type { DurableEnvironment } from './durable/environment.js'
import { EventLoss, type EventLossRecord } from './EventLoss.js'
import { type ConnectionSpec, MqttConnection } from './MqttConnection.js'
import {
  MQTT_BRIDGE_NAME,
  type MqttBridgeOptions,
  PACKET_OVERHEAD_BYTES,
  resolveMqttOptions,
} from './options.js'
import { replyRoute } from './replies.js'
import { createTopicScheme, sharedFilter } from './topics.js'

export { MQTT_BRIDGE_NAME } from './options.js'

/** Commands at QoS 0 get no PUBACK, so nothing tells the caller that no subscription matched. */
const NO_HANDLER_AT_QOS_0 = unsupported(
  'commands are published at QoS 0 (commandQos 0, the default), which the broker never acknowledges, so a call ' +
    'nobody serves ends in the timeout; with commandQos: 1 the broker answers PUBACK 0x10 (no matching subscribers) ' +
    'and the call fails at once with a 503',
)
/** MQTT 5 PUBACK reason: the broker accepted the message but no subscription matched it. */
const NO_MATCHING_SUBSCRIBERS = 0x10
const UNBOUNDED_QUEUE_WARNING =
  'mqtt: durable subscriptions are lossless only if the broker keeps every queued event: on Mosquitto set ' +
  '`max_queued_messages 0` (the default 1000 drops what a member more than 1000 events behind would get; keep ' +
  'max_queued_bytes 0 and memory_limit 0, the defaults) and `persistence true` to survive a broker restart. ' +
  'Dropped events are detected and reported (error log, conduit.messaging.lost, readEventLoss). Pass ' +
  'brokerQueuesUnbounded: true once the broker is set up so (docs/bridges/mqtt.md)'
const FIRST_DELIVERY: Delivery = Object.freeze({ attempt: 1 })
const REPLIES_LOST = 'connection to the MQTT broker lost'

export interface MqttTransport extends Transport {
  /** the mqtt.js client of the main connection (commands, replies, at-most-once events); undefined before connect */
  readonly client: MqttClient | undefined
  /** what the broker dropped for the group's durable sessions (see EventLoss) */
  readEventLoss(group: string): Promise<EventLossRecord[]>
}

/**
 * The MQTT 5 transport: one clean-session connection per bridge for commands, responses,
 * at-most-once events and publishing, plus one persistent-session connection per durable
 * subscription (see DurableMember). Topic scheme and guarantees: docs/bridges/mqtt.md.
 */
export function createMqttTransport(options: MqttBridgeOptions = {}): MqttTransport {
  const settings = resolveMqttOptions(options)
  const topics = createTopicScheme(settings.prefix)
  let host: TransportHost | undefined
  let main: MqttConnection | undefined
  let replyTopic = ''
  const members = new Set<DurableMember>()
  /** client ids of this bridge's durable sessions and adoptions: never adopted by itself */
  const claimed = new Set<string>()
  const notConnected = () => new BridgeUnavailableError('mqtt bridge is not connected')
  const hostOf = (): TransportHost => {
    if (!host) throw notConnected()
    return host
  }
  const mainConnection = (): MqttConnection => {
    if (!main) throw notConnected()
    return main
  }

  const connectionSpec = (clientId: string): ConnectionSpec => ({
    url: settings.url,
    clientId,
    reconnect: true,
    connectTimeout: settings.connectTimeout,
    publishTimeout: settings.publishTimeout,
    mqtt: settings.mqtt,
    host: hostOf(),
  })
  const openReader = () =>
    MqttConnection.open({
      ...connectionSpec(`${settings.clientIdBase}-reader-${randomUUID()}`),
      reconnect: false,
    })
  const deadLetters = new DeadLetters(topics, mainConnection, openReader)
  const eventLoss = new EventLoss(topics, hostOf, mainConnection, openReader)
  let warnedAboutQueues = settings.brokerQueuesUnbounded

  /** What the broker accepts, from the configured limit and the CONNACK's Maximum Packet Size. */
  const maxPayloadBytes = (): number => {
    const announced = main?.maximumPacketSize
    return announced === undefined
      ? settings.maxPayloadBytes
      : Math.min(settings.maxPayloadBytes, announced - PACKET_OVERHEAD_BYTES)
  }
  /** Command topics by address: built and validated once, not on every call. */
  const commandTopics = new Map<string, string>()
  const commandTopic = (address: CommandAddress): string => {
    // '/' never occurs in a valid level, so valid addresses cannot share a key.
    const key = `${address.service}/${address.version}/${address.command}`
    let topic = commandTopics.get(key)
    if (topic === undefined) {
      topic = topics.command(address)
      if (commandTopics.size < 10_000) commandTopics.set(key, topic)
    }
    return topic
  }

  const capabilities: BridgeCapabilities = {
    requestReply: supported,
    durable: supported,
    everyInstance: supported,
    wildcards: supported,
    noHandlerDetection: settings.commandQos === 1 ? supported : NO_HANDLER_AT_QOS_0,
    deadLetterInspection: supported,
    get maxPayloadBytes() {
      return maxPayloadBytes()
    },
  }

  return {
    name: MQTT_BRIDGE_NAME,
    capabilities,
    server: serverAddressOf(settings.url, 1883),
    destinationName: (target) =>
      target.kind === 'command' ? topics.command(target.address) : topics.event(target.eventName),

    get client() {
      return main?.rawClient
    },

    async connect(transportHost) {
      host = transportHost
      replyTopic = topics.reply(transportHost.instanceId)
      const connection = await MqttConnection.open(
        connectionSpec(`${settings.clientIdBase}-${transportHost.instanceId}`),
      )
      // Replies travel on this connection's clean session: when it drops, the ones on their way are gone.
      connection.onLost = () => transportHost.repliesLost(REPLIES_LOST)
      main = connection
      try {
        await connection.subscribe(replyTopic, settings.commandQos, (_topic, payload) =>
          transportHost.receiveReply(payload),
        )
      } catch (error) {
        await connection.close({ force: true })
        throw error
      }
    },

    async disconnect() {
      await Promise.allSettled([...members].map((member) => member.close()))
      members.clear()
      await main?.close()
    },

    isReady: () => (main?.ready ?? false) && [...members].every((member) => member.ready),
    isHealthy: () => main?.alive ?? false,

    async sendCommand(address, command) {
      // A call fails fast while the broker is gone (the caller may retry elsewhere); only events
      // wait out a short outage, bounded by publishTimeout.
      const connection = mainConnection()
      if (!connection.ready) throw connection.unavailableNow('not connected: the command was not sent')
      const { deadline, id } = command.envelope
      // Expired commands are dropped by the broker instead of delivered (MQTT 5 Message Expiry).
      const expirySeconds = Math.max(1, Math.ceil(((deadline ?? Date.now()) - Date.now()) / 1_000))
      const properties = {
        responseTopic: replyTopic,
        // The envelope id: what the reply names in inReplyTo, echoed here for plain MQTT clients.
        correlationData: Buffer.from(id),
        messageExpiryInterval: expirySeconds,
      }
      // Unbounded: the caller's deadline already bounds the wait for the broker's acknowledgement.
      const reason = await connection.publish(
        commandTopic(address),
        command.bytes,
        { qos: settings.commandQos, properties },
        true,
      )
      // Mosquitto answers a QoS 1 publish that matched no subscription with 0x10: nobody serves it.
      if (reason === NO_MATCHING_SUBSCRIBERS)
        throw new NoHandlerError(
          `No instance serves the command on ${MQTT_BRIDGE_NAME} (PUBACK 0x10: no matching subscribers)`,
        )
    },

    async listenCommands(address, receive) {
      const host = hostOf()
      // Commands have no dead-letter place here: what the engine dead-letters was logged by it and ends.
      return mainConnection().subscribe(
        topics.commandFilter(address),
        settings.commandQos,
        (topic, payload, packet) => {
          receive(payload, replyRoute(packet, topics, mainConnection, host.logger)).catch((error: unknown) =>
            host.reportFailure('handle a command', error, { topic }),
          )
        },
      )
    },

    async publishEvent(event) {
      // QoS 1 always: the broker confirms the event, and durable subscribers get it at QoS 1.
      await mainConnection().publish(topics.event(event.envelope.eventName ?? ''), event.bytes, { qos: 1 })
    },

    async listenEvents(spec, receive) {
      if (spec.delivery === 'durable') return listenDurable(spec, receive)
      const host = hostOf()
      // At-most-once: QoS 0 on the bridge's clean session, one shared subscription per group. An
      // everyInstance group gets a share of its own, which every event reaches.
      const share = spec.everyInstance ? `${spec.group}.${host.instanceId}` : spec.group
      const filter = sharedFilter(share, topics.eventFilter(spec.eventPattern))
      return mainConnection().subscribe(filter, 0, (topic, payload) => {
        receive(payload, FIRST_DELIVERY)
          .then((outcome) => {
            if (outcome.action !== 'dead-letter') return // 'retry' never comes for at-most-once
            return deadLetters
              .publish(spec.group, outcome.record, {
                attempt: FIRST_DELIVERY.attempt,
                topic,
                original: payload,
              })
              .catch((error: unknown) => host.reportFailure('dead-letter', error, { group: spec.group }))
          })
          .catch((error: unknown) => host.reportFailure('handle an event', error, { group: spec.group }))
      })
    },

    readDeadLetters: (group) => deadLetters.read(group),
    readEventLoss: (group) => eventLoss.read(group),
  }

  async function listenDurable(spec: EventListenerSpec, receive: EventReceiver): Promise<TransportListener> {
    if (!warnedAboutQueues) {
      warnedAboutQueues = true
      hostOf().logger.warn({ group: spec.group, url: settings.url }, UNBOUNDED_QUEUE_WARNING)
    }
    const member = new DurableMember(durableEnvironment(), spec, receive)
    try {
      await member.start()
    } catch (error) {
      // The start failure is what the caller gets; a failed cleanup is only reported.
      await member
        .close()
        .catch((cleanup: unknown) => hostOf().reportFailure('close a durable member', cleanup))
      throw error
    }
    members.add(member)
    return {
      pause: () => member.pause(),
      close: async () => {
        members.delete(member)
        await member.close()
      },
    }
  }

  function durableEnvironment(): DurableEnvironment {
    return {
      settings,
      topics,
      host: hostOf(),
      deadLetters,
      eventLoss,
      claimed,
      main: mainConnection,
      connectionSpec,
    }
  }
}
