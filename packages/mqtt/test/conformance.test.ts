import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { PrivateMosquitto, runBridgeConformance, StallableRelay } from '@conduit/bridge-conformance'
import type { EventBridge } from '@conduit/core'
import { connectAsync, type IClientPublishOptions, type MqttClient } from 'mqtt'
import { createTopicScheme, MqttBridge } from '../src/index.js'
import { purgeMqttNamespace, uniqueMqttPrefix } from '../src/testing.js'
import { BROKER_URL } from './support.js'

/** Destroys the bridge's main socket, as a network fault would; mqtt.js notices and reconnects. */
async function interruptConnection(bridge: EventBridge): Promise<void> {
  if (!(bridge instanceof MqttBridge)) throw new Error('not an MqttBridge')
  const client = bridge.client
  if (!client) throw new Error('the bridge is not connected')
  const closed = new Promise<void>((resolve) => client.once('close', () => resolve()))
  client.stream.destroy()
  await closed
}

// Each namespace is a unique topic prefix on the shared Mosquitto; bridges get unique client ids.
runBridgeConformance({
  name: 'mqtt',
  // A private Mosquitto with the lossless settings docs/bridges/mqtt.md names (max_queued_messages 0,
  // max_inflight_messages 0) and persistence on, that the broker-fault group kills and restarts;
  // before the kills it also saves its store after every queued message (see PrivateMosquitto).
  brokerFaults: {
    startBroker: () => PrivateMosquitto.start(PrivateMosquitto.LOSSLESS_SETTINGS),
    beforeBrokerKill: (broker) =>
      (broker as PrivateMosquitto).reconfigure([
        ...PrivateMosquitto.LOSSLESS_SETTINGS,
        ...PrivateMosquitto.CRASH_SAFE_SETTINGS,
      ]),
    bridgeModule: {
      path: fileURLToPath(new URL('../src/index.ts', import.meta.url)),
      exportName: 'MqttBridge',
    },
    bridgeOptions: (url, prefix) => ({
      url,
      prefix,
      clientIdBase: 'conduit-cff',
      orphanDelay: 1,
      brokerQueuesUnbounded: true,
    }),
    // mqtt.js never dials again after the first loss
    givingUp: { mqtt: { reconnectPeriod: 0 } },
    defaultQueueLimit: {
      events: 1_000,
      source: "Mosquitto's max_queued_messages (1000 by default; this broker runs with 0, unbounded)",
    },
    emitWaitBoundMs: 5_000, // publishTimeout, default 5000
    brokerCrashLoss: {
      notApplicable:
        'Mosquitto 2.0 does not restore the shared subscription of an offline persistent session after a restart (eclipse/mosquitto#769), so a durable group with no member connected misses what is published before a member reconnects; and it sends PUBACK before its store is saved, so a crash in between loses an acknowledged event',
    },
  },
  async createNamespace() {
    const prefix = uniqueMqttPrefix('conduit-conformance')
    const topics = createTopicScheme(prefix)
    // Bridges connect through a relay, so that a test can stall their traffic to the broker.
    const broker = new URL(BROKER_URL)
    const relay = await StallableRelay.start(broker.hostname, Number(broker.port || 1883))
    const bridgeUrl = relay.urlFor(BROKER_URL)
    const bridgeOptions = { url: bridgeUrl, prefix, clientIdBase: 'conduit-cf', orphanDelay: 1 }
    let raw: Promise<MqttClient> | undefined
    // A plain MQTT client publishing where the bridge listens, as a foreign producer would.
    const rawClient = () => {
      raw ??= connectAsync(BROKER_URL, {
        protocolVersion: 5,
        clientId: `conduit-cf-raw-${prefix.split('/')[1]}`,
      })
      return raw
    }
    const publishRaw = async (topic: string, bytes: Uint8Array, options: IClientPublishOptions = {}) => {
      await (await rawClient()).publishAsync(topic, Buffer.from(bytes), { qos: 1, ...options })
    }
    // The plain client asks with a response topic of the bridge's reply shape that it subscribed to.
    const captureReply = async (topic: string, bytes: Uint8Array, timeoutMs: number) => {
      const client = await rawClient()
      const replyTopic = topics.reply(`raw-capture-${randomUUID()}`)
      let onMessage: (topic: string, payload: Buffer) => void = () => undefined
      const reply = new Promise<Uint8Array>((resolve, reject) => {
        onMessage = (arrivedOn, payload) => arrivedOn === replyTopic && resolve(new Uint8Array(payload))
        setTimeout(() => reject(new Error(`no reply within ${timeoutMs} ms`)), timeoutMs).unref()
      })
      client.on('message', onMessage)
      try {
        await client.subscribeAsync(replyTopic, { qos: 1 })
        await publishRaw(topic, bytes, { properties: { responseTopic: replyTopic } })
        return await reply
      } finally {
        client.off('message', onMessage)
      }
    }
    return {
      createBridge: (options) => new MqttBridge({ ...options, ...bridgeOptions }),
      injectRawCommand: (address, bytes, replyTo) =>
        publishRaw(
          topics.command(address),
          bytes,
          replyTo === undefined ? {} : { properties: { responseTopic: replyTo } },
        ),
      captureReply: (address, bytes, timeoutMs) => captureReply(topics.command(address), bytes, timeoutMs),
      replyAddresses: {
        valid: topics.reply(`nobody-${randomUUID()}`),
        // wildcards (illegal topic names: the broker would disconnect the replier), and the
        // event namespace of the same application, where a reply would pose as an event
        hostile: ['x/+/y', 'x/#', `${prefix}/event/hostile/reply`],
      },
      interruptConnection,
      injectRawEvent: (eventName, bytes) => publishRaw(topics.event(eventName), bytes),
      // The group's retained dead-letter topics, read by a plain client; a sentinel it sends itself
      // after subscribing arrives after every retained message.
      async readRawDeadLetters(group) {
        const reader = await connectAsync(BROKER_URL, {
          protocolVersion: 5,
          clientId: `conduit-cf-dl-${randomUUID().slice(0, 8)}`,
        })
        try {
          const letters: Uint8Array[] = []
          const sentinel = topics.sentinel(randomUUID())
          const drained = new Promise<void>((resolve) =>
            reader.on('message', (topic, payload) => {
              if (topic === sentinel) resolve()
              else if (payload.length > 0) letters.push(new Uint8Array(payload))
            }),
          )
          await reader.subscribeAsync(topics.deadLetterFilter(group), { qos: 1 })
          await reader.subscribeAsync(sentinel, { qos: 1 })
          await reader.publishAsync(sentinel, '', { qos: 1 })
          await drained
          return letters
        } finally {
          await reader.endAsync()
        }
      },
      stallBroker: async () => relay.stall(),
      createBridgeWithPayloadLimit: (options, maxPayloadBytes) =>
        new MqttBridge({ ...options, ...bridgeOptions, maxPayloadBytes }),
      async cleanup() {
        await relay.close()
        if (raw) await (await raw).endAsync()
        await purgeMqttNamespace(prefix, BROKER_URL)
      },
    }
  },
})
