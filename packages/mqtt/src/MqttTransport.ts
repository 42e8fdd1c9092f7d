import { randomUUID } from 'node:crypto'
import {
  type BridgeCapabilities,
  BridgeUnavailableError,
  type CommandAddress,
  type CommandReceiver,
  type Envelope,
  type EventReceiver,
  encodeEnvelope,
  type ReplySender,
  supported,
  type Transport,
  type TransportHost,
  unsupported,
} from '@conduit/core'
import type { IPublishPacket } from 'mqtt'
import { DeadLetters } from './DeadLetters.js'
import { DurableMember } from './durable/DurableMember.js'
import type { DurableEnvironment } from './durable/environment.js'
import { LocalRoutes } from './LocalRoutes.js'
import { type ConnectionSpec, MqttConnection } from './MqttConnection.js'
import { type MqttBridgeOptions, PACKET_OVERHEAD_BYTES, resolveMqttOptions } from './options.js'
import { createTopicScheme, sharedFilter } from './topics.js'

export const MQTT_BRIDGE_NAME = 'mqtt'

const NO_HANDLER_DETECTION = unsupported(
  'MQTT gives a publisher no reliable "nobody is subscribed" answer: Mosquitto 2.0 acknowledges a publish ' +
    'that reaches no subscriber like any other (PUBACK reason 0x10 is optional in MQTT 5), so the caller gets the timeout',
)

/**
 * The MQTT 5 transport: one clean-session connection per bridge for commands, responses,
 * at-most-once events and publishing, plus one persistent-session connection per durable
 * subscription (see DurableMember). Topic scheme and guarantees: docs/bridges/mqtt.md.
 */
export function createMqttTransport(options: MqttBridgeOptions = {}): Transport {
  const settings = resolveMqttOptions(options)
  const topics = createTopicScheme(settings.prefix)
  let host: TransportHost | undefined
  let main: MqttConnection | undefined
  let replyTopic = ''
  const members = new Set<DurableMember>()
  /** client ids of this bridge's durable sessions and adoptions: never adopted by itself */
  const claimed = new Set<string>()
  const mainConnection = (): MqttConnection => {
    if (!main) throw new BridgeUnavailableError('mqtt bridge is not connected')
    return main
  }
  const commandRoutes = new LocalRoutes<CommandReceiver>(mainConnection)
  const eventRoutes = new LocalRoutes<EventReceiver>(mainConnection)

  const connectionSpec = (clientId: string): ConnectionSpec => ({
    url: settings.url,
    clientId,
    reconnect: true,
    connectTimeout: settings.connectTimeout,
    publishTimeout: settings.publishTimeout,
    mqtt: settings.mqtt,
    logger: host!.logger,
  })
  const openReader = () =>
    MqttConnection.open({
      ...connectionSpec(`${settings.clientIdBase}-reader-${randomUUID()}`),
      reconnect: false,
    })
  const deadLetters = new DeadLetters(topics, mainConnection, openReader)

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
  const encode = (envelope: Envelope): Uint8Array =>
    encodeEnvelope(envelope, maxPayloadBytes(), MQTT_BRIDGE_NAME)

  const replySender = (packet: IPublishPacket): ReplySender => {
    const responseTopic = packet.properties?.responseTopic
    const correlationData = packet.properties?.correlationData
    const qos = packet.qos === 0 ? 0 : 1
    return async (response) => {
      if (!responseTopic) {
        host?.logger.debug(
          { correlationId: response.correlationId },
          'mqtt: command had no response topic; reply dropped',
        )
        return
      }
      await mainConnection().publish(responseTopic, encode(response), {
        qos,
        properties: correlationData ? { correlationData } : {},
      })
    }
  }

  const capabilities: BridgeCapabilities = {
    requestReply: supported,
    durable: supported,
    everyInstance: supported,
    wildcards: supported,
    noHandlerDetection: NO_HANDLER_DETECTION,
    deadLetterInspection: supported,
    get maxPayloadBytes() {
      return maxPayloadBytes()
    },
  }

  return {
    name: MQTT_BRIDGE_NAME,
    capabilities,

    async connect(transportHost) {
      host = transportHost
      replyTopic = topics.reply(transportHost.instanceId)
      main = await MqttConnection.open(connectionSpec(`${settings.clientIdBase}-${transportHost.instanceId}`))
      try {
        await main.subscribe(replyTopic, settings.commandQos, (_topic, payload) =>
          transportHost.receiveReply(payload),
        )
      } catch (error) {
        await main.close({ force: true })
        throw error
      }
    },

    async disconnect() {
      await Promise.allSettled([...members].map((member) => member.close()))
      members.clear()
      await main?.close()
    },

    isReady: () => (main?.connected ?? false) && [...members].every((member) => member.connected),
    isHealthy: () => main?.alive ?? false,

    async sendCommand(address, command) {
      const topic = commandTopic(address)
      const payload = encode(command)
      // Expired commands are dropped by the broker instead of delivered (MQTT 5 Message Expiry).
      const expirySeconds = Math.max(1, Math.ceil(((command.deadline ?? Date.now()) - Date.now()) / 1_000))
      const properties = {
        responseTopic: replyTopic,
        correlationData: Buffer.from(command.correlationId),
        messageExpiryInterval: expirySeconds,
      }
      // Unbounded: the caller's deadline already bounds the wait for the broker's acknowledgement.
      await mainConnection().publish(topic, payload, { qos: settings.commandQos, properties }, true)
    },

    async listenCommands(address, receive) {
      const remove = await commandRoutes.add(
        topics.commandFilter(address),
        settings.commandQos,
        receive,
        (pick) => (_topic, payload, packet) => {
          for (const receiver of pick(false)) void receiver(payload, replySender(packet))
        },
      )
      return { close: remove }
    },

    async publishEvent(event) {
      // QoS 1 always: the broker confirms the event, and durable subscribers get it at QoS 1.
      await mainConnection().publish(topics.event(event.eventName!), encode(event), { qos: 1 })
    },

    async listenEvents(spec, receive) {
      if (spec.delivery === 'durable') {
        const member = new DurableMember(durableEnvironment(), spec, receive)
        try {
          await member.start()
        } catch (error) {
          await member.close().catch(() => undefined)
          throw error
        }
        members.add(member)
        return {
          close: async () => {
            members.delete(member)
            await member.close()
          },
        }
      }
      // At-most-once: QoS 0 on the bridge's clean session; a shared subscription per group.
      const eventFilter = topics.eventFilter(spec.eventPattern)
      const filter = spec.everyInstance ? eventFilter : sharedFilter(spec.group, eventFilter)
      const remove = await eventRoutes.add(filter, 0, receive, (pick) => (topic, payload) => {
        for (const receiver of pick(spec.everyInstance)) {
          void receiver(payload, { attempt: 1 }).then((outcome) => {
            if (outcome.action !== 'dead-letter') return
            deadLetters
              .publish(spec.group, payload, { reason: outcome.reason, attempt: 1, topic })
              .catch((error: Error) =>
                host?.logger.error({ reason: error.message }, 'mqtt: could not dead-letter'),
              )
          })
        }
      })
      return { close: remove }
    },

    readDeadLetters: (group) => deadLetters.read(group),
  }

  function durableEnvironment(): DurableEnvironment {
    return {
      settings,
      topics,
      logger: host!.logger,
      deadLetters,
      drainTimeout: options.drainTimeout ?? 10_000,
      claimed,
      main: mainConnection,
      connectionSpec,
    }
  }
}
