import { DEAD_LETTER_HEADROOM_BYTES, type DeliveryOutcome, type RawMessage } from '@conduit/core/transport'

type DeadLetterOutcome = Extract<DeliveryOutcome, { action: 'dead-letter' }>

/** One message delivered by Dapr, as read by the bridge. */
export interface Received {
  /** the envelope read from a Conduit CloudEvent, or the bytes when they are none (the engine says why) */
  readonly raw: RawMessage
  /** the CloudEvent as published, when the message was one (a JSON object with `specversion` and `id`) */
  readonly cloudEvent?: Readonly<Record<string, unknown>>
  /** whether the message was JSON at all */
  readonly json: boolean
  /** size of the message in bytes, as it is on the broker */
  readonly size: number
}

export interface DeadLetterBody {
  readonly body: Uint8Array | string
  readonly contentType: string
}

const CLOUD_EVENT = 'application/cloudevents+json'
const JSON_TYPE = 'application/json'

/** The same small record core stores when the original would not fit. */
export function deadLetterStub(reason: string, originalId: unknown, originalBytes: number): DeadLetterBody {
  const id = typeof originalId === 'string' ? originalId : null
  const stub = { conduitDeadLetterStub: 1, reason, originalId: id, originalBytes }
  return { body: JSON.stringify(stub), contentType: JSON_TYPE }
}

/**
 * What goes to `<prefix>dead-letter.<group>`: always something Dapr stores as a CloudEvent, so
 * that any Dapr app can subscribe to it. A CloudEvent is republished as it came, with the reason
 * and group as extension attributes. Other messages are the engine's record; Dapr wraps them
 * (bytes that are not JSON as base64). The engine weighs only the bytes it was handed, so what
 * it got as an envelope read from a CloudEvent, and the base64 form, are weighed here, with the
 * engine's headroom: a stub replaces what would not fit.
 */
export function deadLetterBody(
  outcome: DeadLetterOutcome,
  group: string,
  received: Received,
  maxPayloadBytes: number,
): DeadLetterBody {
  const { reason, record } = outcome
  const { cloudEvent, size } = received
  if (record.stub && record.message instanceof Uint8Array)
    return { body: record.message, contentType: JSON_TYPE }
  if (cloudEvent) {
    if (size + DEAD_LETTER_HEADROOM_BYTES > maxPayloadBytes)
      return deadLetterStub(reason, cloudEvent.id, size)
    const dead = { ...cloudEvent, conduitdeadletterreason: reason, conduitdeadlettergroup: group }
    return { body: JSON.stringify(dead), contentType: CLOUD_EVENT }
  }
  const bytes = record.message
  if (!(bytes instanceof Uint8Array)) return deadLetterStub(reason, undefined, size)
  if (received.json) return { body: bytes, contentType: JSON_TYPE }
  if (Math.ceil(bytes.byteLength / 3) * 4 + DEAD_LETTER_HEADROOM_BYTES > maxPayloadBytes) {
    return deadLetterStub(reason, undefined, bytes.byteLength)
  }
  return { body: bytes, contentType: 'application/octet-stream' }
}
