import { PayloadTooLargeError } from '@conduit/core'
import { MQTT_BRIDGE_NAME, PACKET_OVERHEAD_BYTES } from './options.js'
import { InvalidTopicError, illegalInTopicName } from './topics.js'

/**
 * Refuses, before it reaches the socket, a publish the broker would answer by disconnecting
 * the client: a topic name with a wildcard (or empty, or with NUL), or a payload that with the
 * topic and properties would exceed the Maximum Packet Size the broker announced.
 */
export function assertPublishable(
  topic: string,
  payload: Uint8Array | string,
  maximumPacketSize: number | undefined,
): void {
  const illegal = topic.length === 0 ? 'nothing' : illegalInTopicName(topic)
  if (illegal !== undefined)
    throw new InvalidTopicError('publish topic', topic, `it holds ${illegal}, illegal in a topic name`)
  if (maximumPacketSize === undefined) return
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength
  if (size + PACKET_OVERHEAD_BYTES > maximumPacketSize)
    throw new PayloadTooLargeError(size, maximumPacketSize - PACKET_OVERHEAD_BYTES, MQTT_BRIDGE_NAME)
}

/** A Buffer view of the same bytes: mqtt.js copies non-Buffer payloads element by element. */
export function bufferView(payload: Uint8Array | string): Buffer | string {
  return typeof payload === 'string' || Buffer.isBuffer(payload)
    ? payload
    : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)
}
