import { randomUUID } from 'node:crypto'
import type { DeadLetterRecord, RawMessage } from '@conduit/core/transport'
import type { MqttConnection } from './MqttConnection.js'
import { RECORDED_AT, readRetained } from './retained.js'
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
          [RECORDED_AT]: String(Date.now()),
        },
      },
    })
  }

  /** Reads the group's dead letters, oldest first, without removing them. */
  read(group: string): Promise<RawMessage[]> {
    return readRetained(this.openReader, this.topics, this.topics.deadLetterFilter(group))
  }
}
