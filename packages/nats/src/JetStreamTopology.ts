import { ConduitError } from '@conduit/core'
import {
  AckPolicy,
  type ConsumerConfig,
  DeliverPolicy,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from '@nats-io/jetstream'
import { nanos } from '@nats-io/transport-node'
import { isNotFound } from './DurableInterest.js'
import type { ResolvedDurableOptions } from './options.js'
import type { NatsSubjects } from './subjects.js'

export interface DurableConsumerSpec {
  readonly name: string
  readonly filter: string
  /** an instance's own consumer (everyInstance): removed by the server when the instance is gone */
  readonly perInstance: boolean
}

/**
 * Declares the streams and consumers durable subscriptions need. Every declaration is
 * idempotent, so any number of processes may race to make them, and the bridge repeats them
 * after a reconnect (a broker that lost its state gets them back).
 *
 * - `<prefix>_events` captures `<prefix>.evt.>` with interest retention: an event is kept until
 *   every durable consumer whose filter matches has acked it, and not stored at all when none
 *   matches, so at-most-once traffic costs no storage.
 * - `<prefix>_dead_letters` keeps `<prefix>.dlq.>` (limits retention, direct get for reading).
 */
export class JetStreamTopology {
  private eventStream: Promise<void> | undefined
  private deadLetterStream: Promise<void> | undefined

  constructor(
    private readonly jsm: JetStreamManager,
    private readonly subjects: NatsSubjects,
    private readonly options: ResolvedDurableOptions,
  ) {}

  /** Forget what was declared: after a reconnect it may be gone. */
  reset(): void {
    this.eventStream = undefined
    this.deadLetterStream = undefined
  }

  ensureEventStream(): Promise<void> {
    this.eventStream ??= this.ensureStream({
      name: this.subjects.eventStream,
      subjects: [this.subjects.allEvents],
      retention: RetentionPolicy.Interest,
      storage: this.storage,
      num_replicas: this.options.replicas,
    }).catch((error) => {
      this.eventStream = undefined
      throw error
    })
    return this.eventStream
  }

  ensureDeadLetterStream(): Promise<void> {
    this.deadLetterStream ??= this.ensureStream({
      name: this.subjects.deadLetterStream,
      subjects: [this.subjects.allDeadLetters],
      retention: RetentionPolicy.Limits,
      storage: this.storage,
      num_replicas: this.options.replicas,
      max_age: nanos(this.options.deadLetterMaxAgeMs),
      allow_direct: true,
    }).catch((error) => {
      this.deadLetterStream = undefined
      throw error
    })
    return this.deadLetterStream
  }

  /** true when the dead-letter stream exists (reading must not create it) */
  async hasDeadLetterStream(): Promise<boolean> {
    try {
      await this.jsm.streams.info(this.subjects.deadLetterStream)
      return true
    } catch (error) {
      if (isNotFound(error)) return false
      throw error
    }
  }

  async ensureConsumer(spec: DurableConsumerSpec): Promise<void> {
    await this.ensureEventStream()
    const config: Partial<ConsumerConfig> = {
      durable_name: spec.name,
      filter_subject: spec.filter,
      ack_policy: AckPolicy.Explicit,
      // A new subscription starts with the events emitted from now on (not with the backlog
      // another subscription still holds); afterwards its position persists across restarts.
      deliver_policy: DeliverPolicy.New,
      ack_wait: nanos(this.options.ackWaitMs),
      // Redelivery is unbounded on the server: the engine counts attempts and dead-letters.
      max_deliver: -1,
      max_ack_pending: this.options.maxAckPending,
    }
    if (spec.perInstance) config.inactive_threshold = nanos(this.options.instanceConsumerInactiveMs)
    const stream = this.subjects.eventStream
    let existing: ConsumerConfig | undefined
    try {
      existing = (await this.jsm.consumers.info(stream, spec.name)).config
    } catch (error) {
      if (!isNotFound(error)) throw error
    }
    if (existing === undefined) {
      await this.jsm.consumers.add(stream, config)
      return
    }
    if (existing.filter_subject !== spec.filter) {
      throw new ConduitError(
        500,
        'DURABLE_CONSUMER_MISMATCH',
        `The JetStream consumer ${spec.name} on ${stream} filters ${existing.filter_subject ?? '(nothing)'}, not ${spec.filter}: ` +
          'the subscription changed its event; delete the old consumer (nats consumer rm) to start it afresh',
        false,
      )
    }
    if (existing.ack_wait !== config.ack_wait || existing.max_ack_pending !== config.max_ack_pending) {
      const { ack_wait, max_ack_pending } = config
      await this.jsm.consumers.update(stream, spec.name, { ack_wait, max_ack_pending })
    }
  }

  async deleteConsumer(name: string): Promise<void> {
    try {
      await this.jsm.consumers.delete(this.subjects.eventStream, name)
    } catch (error) {
      if (!isNotFound(error)) throw error
    }
  }

  private get storage(): StorageType {
    return this.options.storage === 'memory' ? StorageType.Memory : StorageType.File
  }

  private async ensureStream(
    config: Partial<StreamConfig> & { name: string; subjects: string[] },
  ): Promise<void> {
    try {
      await this.jsm.streams.add(config)
    } catch (error) {
      // Created earlier with other settings (an older version, an operator's tuning): use it
      // as long as it still captures what we publish.
      let existing: StreamConfig
      try {
        existing = (await this.jsm.streams.info(config.name)).config
      } catch {
        throw error
      }
      if (!existing.subjects?.includes(config.subjects[0]!)) {
        throw new ConduitError(
          500,
          'STREAM_MISMATCH',
          `The JetStream stream ${config.name} exists but does not capture ${config.subjects[0]}`,
          false,
          { cause: error },
        )
      }
    }
  }
}
