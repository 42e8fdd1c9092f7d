/** MQTT packet identifiers run 1..65535; 0 is never used. */
const PACKET_ID_SPACE = 65_535

/** One gap in a session's packet identifiers: messages the broker numbered but never sent. */
export interface PacketIdGap {
  /** how many were skipped */
  readonly missing: number
  /** the last identifier received before the gap; undefined when the session was new */
  readonly after: number | undefined
  /** the identifier that revealed it */
  readonly at: number
}

/**
 * Finds what the broker dropped from one persistent session. Mosquitto numbers the QoS 1
 * messages it queues for a session consecutively (1, 2, ... 65535, 1, ...) at the moment it
 * queues them, and a message it then drops (`max_queued_messages` reached, expiry) keeps its
 * number: the next identifier the member receives skips it (verified on 2.0.11: the skipped
 * identifiers equal the events lost, per member of a shared group too). Redeliveries (DUP) reuse
 * their identifier and are ignored. A gap is only seen when the next message reaches the session,
 * and one of 65,535 or more wraps around (it is counted modulo 65,535).
 */
export class PacketIdGaps {
  private last: number | undefined

  /** `last`: the identifier received last in this session, 0 for a new one, undefined if unknown. */
  constructor(last?: number) {
    this.last = last
  }

  /** The session is new (the broker numbers from 1 again) or unknown. */
  reset(last: number | undefined): void {
    this.last = last
  }

  /** Records one QoS 1 message; returns the gap it reveals, if any. */
  observe(packetId: number, dup: boolean): PacketIdGap | undefined {
    const last = this.last
    if (last === undefined) {
      this.last = packetId
      return undefined
    }
    const step = (packetId - last + PACKET_ID_SPACE) % PACKET_ID_SPACE
    // A redelivery of what came before (after a reconnect or adoption): nothing new.
    if (dup && (step === 0 || step > PACKET_ID_SPACE / 2)) return undefined
    this.last = packetId
    const missing = (step - 1 + PACKET_ID_SPACE) % PACKET_ID_SPACE
    return missing > 0 ? { missing, after: last === 0 ? undefined : last, at: packetId } : undefined
  }
}
