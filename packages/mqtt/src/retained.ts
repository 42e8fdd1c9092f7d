import { randomUUID } from 'node:crypto'
import type { IPublishPacket } from 'mqtt'
import type { MqttConnection } from './MqttConnection.js'
import type { TopicScheme } from './topics.js'

/** How long a read waits for the broker to hand over the retained messages. */
const READ_TIMEOUT_MS = 10_000

/**
 * Reads the retained messages under `filter`, in the order of their `conduit-recorded-at` user
 * property. A fresh connection subscribes and then sends itself a sentinel: the broker queues
 * the retained messages at SUBSCRIBE time, so once the sentinel arrives every one has arrived.
 */
export async function readRetained(
  openReader: () => Promise<MqttConnection>,
  topics: TopicScheme,
  filter: string,
): Promise<Uint8Array[]> {
  const reader = await openReader()
  const found: { at: number; payload: Uint8Array }[] = []
  let timer: NodeJS.Timeout | undefined
  try {
    const sentinel = topics.sentinel(randomUUID())
    let sentinelArrived = () => {}
    const drained = new Promise<void>((resolve, reject) => {
      sentinelArrived = resolve
      timer = setTimeout(
        () => reject(new Error(`retained messages under ${filter} not read within ${READ_TIMEOUT_MS} ms`)),
        READ_TIMEOUT_MS,
      )
    })
    await reader.subscribe(sentinel, 1, () => sentinelArrived())
    await reader.subscribe(filter, 1, (_topic, payload, packet) => {
      if (payload.length > 0) found.push({ at: recordedAt(packet), payload: new Uint8Array(payload) })
    })
    await reader.publish(sentinel, '', { qos: 1 })
    await drained
  } finally {
    clearTimeout(timer)
    await reader.close()
  }
  return found.sort((a, b) => a.at - b.at).map((entry) => entry.payload)
}

/** The user property retained records carry their time in (epoch ms). */
export const RECORDED_AT = 'conduit-dead-lettered-at'

function recordedAt(packet: IPublishPacket): number {
  const value = packet.properties?.userProperties?.[RECORDED_AT]
  return Number(Array.isArray(value) ? value[0] : value) || 0
}
