import { randomUUID } from 'node:crypto'
import type { DeadLetterRecord, RawMessage } from '@conduit/core/transport'
import type { IPublishPacket } from 'mqtt'
import type { MqttConnection } from './MqttConnection.js'
import type { TopicScheme } from './topics.js'

export interface DeadLetterDetails {
  /** the attempt that ended it (1 for what was never retried) */
  attempt: number
  /** topic the message arrived on */
  topic: string
  /** the bytes received, stored when the engine's record is the original */
  original: Uint8Array
}

const MAX_TOPIC_PROPERTY_LENGTH = 512
/** How long a read waits for the broker to hand over the retained dead letters. */
const READ_TIMEOUT_MS = 10_000

/**
 * Dead letters are retained messages, one topic per message: `<prefix>/dead-letter/<group>/<id>`.
 * Retained messages survive broker restarts (with persistence on) and are handed to every new
 * subscriber, which is what makes them readable back through the bridge or with mosquitto_sub.
 * They stay until someone clears them (an empty retained publish to the topic).
 */
export class DeadLetters {
  constructor(
    private readonly topics: TopicScheme,
    private readonly main: () => MqttConnection,
    /** a fresh, clean-session connection for one read */
    private readonly openReader: () => Promise<MqttConnection>,
  ) {}

  /**
   * Stores the engine's record: the original bytes, or the small stub the engine made when the
   * original would not fit the broker beside these properties.
   */
  async publish(group: string, record: DeadLetterRecord, details: DeadLetterDetails): Promise<void> {
    const payload = record.message instanceof Uint8Array ? record.message : details.original
    await this.main().publish(this.topics.deadLetter(group, randomUUID()), payload, {
      qos: 1,
      retain: true,
      properties: {
        userProperties: {
          'conduit-reason': record.reason,
          'conduit-attempts': String(details.attempt),
          // cut: a topic read from the wire must not make the record outgrow its headroom
          'conduit-topic': details.topic.slice(0, MAX_TOPIC_PROPERTY_LENGTH),
          'conduit-stub': String(record.stub),
          'conduit-dead-lettered-at': String(Date.now()),
        },
      },
    })
  }

  /**
   * Reads the group's dead letters, oldest first. A fresh connection subscribes to the group's
   * dead-letter topics and then sends itself a sentinel: the broker queues the retained
   * messages at SUBSCRIBE time, so once the sentinel arrives every one of them has arrived.
   */
  async read(group: string): Promise<RawMessage[]> {
    const reader = await this.openReader()
    const letters: { at: number; payload: Uint8Array }[] = []
    let timer: NodeJS.Timeout | undefined
    try {
      const sentinel = this.topics.sentinel(randomUUID())
      let sentinelArrived = () => {}
      const drained = new Promise<void>((resolve, reject) => {
        sentinelArrived = resolve
        timer = setTimeout(
          () => reject(new Error(`dead letters of ${group} not read within ${READ_TIMEOUT_MS} ms`)),
          READ_TIMEOUT_MS,
        )
      })
      await reader.subscribe(sentinel, 1, () => sentinelArrived())
      await reader.subscribe(this.topics.deadLetterFilter(group), 1, (_topic, payload, packet) => {
        if (payload.length > 0) letters.push({ at: deadLetteredAt(packet), payload: new Uint8Array(payload) })
      })
      await reader.publish(sentinel, '', { qos: 1 })
      await drained
    } finally {
      clearTimeout(timer)
      await reader.close()
    }
    return letters.sort((a, b) => a.at - b.at).map((letter) => letter.payload)
  }
}

function deadLetteredAt(packet: IPublishPacket): number {
  const value = packet.properties?.userProperties?.['conduit-dead-lettered-at']
  return Number(Array.isArray(value) ? value[0] : value) || 0
}
