import { randomUUID } from 'node:crypto'
import { runBridgeConformance } from '@conduit/bridge-conformance'
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
  async createNamespace() {
    const prefix = uniqueMqttPrefix('conduit-conformance')
    const topics = createTopicScheme(prefix)
    let raw: Promise<MqttClient> | undefined
    // A plain MQTT client publishing where the bridge listens, as a foreign producer would.
    const publishRaw = async (topic: string, bytes: Uint8Array, options: IClientPublishOptions = {}) => {
      raw ??= connectAsync(BROKER_URL, {
        protocolVersion: 5,
        clientId: `conduit-cf-raw-${prefix.split('/')[1]}`,
      })
      await (await raw).publishAsync(topic, Buffer.from(bytes), { qos: 1, ...options })
    }
    return {
      createBridge: (options) =>
        new MqttBridge({ ...options, url: BROKER_URL, prefix, clientIdBase: 'conduit-cf', orphanDelay: 1 }),
      injectRawCommand: (address, bytes, replyTo) =>
        publishRaw(
          topics.command(address),
          bytes,
          replyTo === undefined ? {} : { properties: { responseTopic: replyTo } },
        ),
      replyAddresses: {
        valid: topics.reply(`nobody-${randomUUID()}`),
        // wildcards (illegal topic names: the broker would disconnect the replier), and the
        // event namespace of the same application, where a reply would pose as an event
        hostile: ['x/+/y', 'x/#', `${prefix}/event/hostile/reply`],
      },
      interruptConnection,
      injectRawEvent: (eventName, bytes) => publishRaw(topics.event(eventName), bytes),
      async cleanup() {
        if (raw) await (await raw).endAsync()
        await purgeMqttNamespace(prefix, BROKER_URL)
      },
    }
  },
})
