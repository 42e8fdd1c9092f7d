import { randomUUID } from 'node:crypto'
import { connectAsync, type MqttClient } from 'mqtt'
import { decodeMarker } from './durable/environment.js'
import { DEFAULT_MQTT_URL } from './options.js'
import { assertPrefix } from './topics.js'

// mqtt.js for raw baselines and foreign-client tests outside this package (bench/suites/mqtt.ts).
export { connectAsync, type IClientOptions, type MqttClient } from 'mqtt'

/** A prefix no other test or application uses: `conduit-test/<uuid>`. */
export function uniqueMqttPrefix(label = 'conduit-test'): string {
  return `${label}/${randomUUID()}`
}

async function retainedUnder(client: MqttClient, prefix: string): Promise<Map<string, Buffer>> {
  const retained = new Map<string, Buffer>()
  const sentinel = `${prefix}/sentinel/${randomUUID()}`
  const drained = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`retained messages under ${prefix} not read in time`)),
      10_000,
    )
    client.on('message', (topic, payload, packet) => {
      if (topic === sentinel) {
        clearTimeout(timer)
        resolve()
      } else if (packet.retain && payload.length > 0) {
        retained.set(topic, payload)
      }
    })
  })
  await client.subscribeAsync(`${prefix}/#`, { qos: 1 })
  await client.publishAsync(sentinel, '', { qos: 1 })
  await drained
  return retained
}

/**
 * Removes what bridges left under `prefix` on the broker: retained messages (dead letters,
 * orphan markers) and the persistent sessions the markers point to. For tests and benchmarks;
 * stop the bridges first.
 */
export async function purgeMqttNamespace(prefix: string, url = DEFAULT_MQTT_URL): Promise<void> {
  assertPrefix(prefix)
  const client = await connectAsync(url, {
    protocolVersion: 5,
    clientId: `conduit-purge-${randomUUID()}`,
    reconnectPeriod: 0,
  })
  try {
    const retained = await retainedUnder(client, prefix)
    for (const [topic, payload] of retained) {
      const marker = topic.includes('/durable/') ? decodeMarker(payload) : undefined
      if (marker) {
        // Connecting with clean start and session expiry 0 discards the stopped member's session.
        const session = await connectAsync(url, {
          protocolVersion: 5,
          clientId: marker.clientId,
          clean: true,
          reconnectPeriod: 0,
          properties: { sessionExpiryInterval: 0 },
        })
        await session.endAsync()
      }
      await client.publishAsync(topic, '', { qos: 1, retain: true })
    }
  } finally {
    await client.endAsync()
  }
}
