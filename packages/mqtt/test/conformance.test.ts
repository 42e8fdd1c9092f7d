import { runBridgeConformance } from '@conduit/bridge-conformance'
import { connectAsync, type MqttClient } from 'mqtt'
import { createTopicScheme, MqttBridge } from '../src/index.js'
import { purgeMqttNamespace, uniqueMqttPrefix } from '../src/testing.js'
import { BROKER_URL } from './support.js'

// Each namespace is a unique topic prefix on the shared Mosquitto; bridges get unique client ids.
runBridgeConformance({
  name: 'mqtt',
  async createNamespace() {
    const prefix = uniqueMqttPrefix('conduit-conformance')
    const topics = createTopicScheme(prefix)
    let raw: Promise<MqttClient> | undefined
    // A plain MQTT client publishing where the bridge listens, as a foreign producer would.
    const publishRaw = async (topic: string, bytes: Uint8Array) => {
      raw ??= connectAsync(BROKER_URL, {
        protocolVersion: 5,
        clientId: `conduit-cf-raw-${prefix.split('/')[1]}`,
      })
      await (await raw).publishAsync(topic, Buffer.from(bytes), { qos: 1 })
    }
    return {
      createBridge: (options) =>
        new MqttBridge({ ...options, url: BROKER_URL, prefix, clientIdBase: 'conduit-cf', orphanDelay: 1 }),
      injectRawCommand: (address, bytes) => publishRaw(topics.command(address), bytes),
      injectRawEvent: (eventName, bytes) => publishRaw(topics.event(eventName), bytes),
      async cleanup() {
        if (raw) await (await raw).endAsync()
        await purgeMqttNamespace(prefix, BROKER_URL)
      },
    }
  },
})
