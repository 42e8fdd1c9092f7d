import type {
  DeliveryOutcome,
  EventListenerSpec,
  EventReceiver,
  Logger,
  TransportListener,
} from '@conduit/core'
import type { ConsumerMessages, JetStreamClient, JsMsg } from '@nats-io/jetstream'
import type { DeadLetters } from './DeadLetters.js'
import type { DurableInterest } from './DurableInterest.js'
import type { DurableConsumerSpec, JetStreamTopology } from './JetStreamTopology.js'
import type { ResolvedDurableOptions } from './options.js'
import type { NatsSubjects } from './subjects.js'

export interface DurableEnvironment {
  readonly js: JetStreamClient
  readonly topology: JetStreamTopology
  readonly interest: DurableInterest
  readonly deadLetters: DeadLetters
  readonly subjects: NatsSubjects
  readonly options: ResolvedDurableOptions
  readonly logger: Logger
}

/** how often re-creating a missing consumer is tried before waiting for the next report of it */
const RECREATE_ATTEMPTS = 20
/** Most messages pulled ahead of the handlers per instance. */
const MAX_PULL_BATCH = 512

/**
 * One durable subscription instance on a JetStream consumer shared by every instance of the
 * group. Messages are handled concurrently (bounded by the consumer's max_ack_pending) and
 * settled by the engine's outcome: ack after success, nak with the backoff delay to retry,
 * or copy to the dead-letter stream and then ack.
 */
export class DurableSubscription implements TransportListener {
  private readonly consumer: DurableConsumerSpec
  private messages: ConsumerMessages | undefined
  private closing = false
  /** messages whose handler runs, with when it started (to tell the server they are in progress) */
  private readonly handling = new Map<JsMsg, number>()
  private progressTimer: NodeJS.Timeout | undefined
  private recreating: Promise<void> | undefined

  constructor(
    private readonly env: DurableEnvironment,
    private readonly spec: EventListenerSpec,
    private readonly receive: EventReceiver,
  ) {
    this.consumer = {
      name: env.subjects.groupName(spec.group),
      filter: env.subjects.eventFilter(spec.eventPattern),
      perInstance: spec.everyInstance,
    }
  }

  get consumerName(): string {
    return this.consumer.name
  }

  async start(): Promise<void> {
    await this.env.topology.ensureConsumer(this.consumer)
    this.env.interest.add(this.consumer.filter)
    await this.consume()
    const progressEvery = Math.max(500, Math.floor(this.env.options.ackWaitMs / 3))
    this.progressTimer = setInterval(() => this.reportProgress(progressEvery), progressEvery)
    this.progressTimer.unref()
  }

  /**
   * Declares the consumer again and pulls afresh (after a reconnect, or when the consumer went
   * missing). nats.js would resume a pull loop by itself, but only after missing heartbeats,
   * tens of seconds later; restarting it is immediate. Handlers in flight still ack: an ack
   * goes to the message's own reply subject, not through the pull loop.
   */
  recreate(): Promise<void> {
    this.recreating ??= this.recreateWithRetries().finally(() => {
      this.recreating = undefined
    })
    return this.recreating
  }

  async close(): Promise<void> {
    if (this.closing) return
    this.closing = true
    clearInterval(this.progressTimer)
    await this.messages?.close()
    // An instance's own consumer has no future reader; the group's shared one must persist.
    if (this.consumer.perInstance) {
      await this.env.topology
        .deleteConsumer(this.consumer.name)
        .catch((error) => this.env.logger.warn({ err: error }, 'could not delete per-instance consumer'))
    }
  }

  /** Right after a delete the server may refuse to re-create the stream for a moment: retry. */
  private async recreateWithRetries(): Promise<void> {
    for (let attempt = 1; !this.closing; attempt++) {
      try {
        this.env.topology.reset()
        await this.env.topology.ensureConsumer(this.consumer)
        if (this.closing) return
        // The old pull loop stays until the new one runs: if re-creating fails, it keeps
        // reporting the missing consumer, which starts another round.
        const previous = this.messages
        await this.consume()
        await previous?.close()
        if (this.closing) await this.messages?.close() // closed while we were re-creating
        return
      } catch (error) {
        const context = { err: error, consumer: this.consumer.name, attempt }
        if (attempt >= RECREATE_ATTEMPTS) {
          this.env.logger.error(context, 'could not re-create the consumer; giving up for now')
          return
        }
        this.env.logger.warn(context, 'could not re-create the consumer yet; retrying')
        await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 50 * 2 ** attempt)).unref())
      }
    }
  }

  private async consume(): Promise<void> {
    const { js, subjects, options } = this.env
    const consumer = await js.consumers.get(subjects.eventStream, this.consumer.name)
    const messages = await consumer.consume({
      max_messages: Math.min(options.maxAckPending, MAX_PULL_BATCH),
      callback: (msg) => this.handle(msg),
    })
    this.messages = messages
    void this.watch(messages)
  }

  private handle(msg: JsMsg): void {
    if (this.closing) {
      // Hand it back at once so another instance takes it, instead of after the ack wait.
      settle(() => msg.nak())
      return
    }
    this.handling.set(msg, Date.now())
    this.receive(msg.data, { attempt: msg.info.deliveryCount }).then(
      (outcome) => {
        this.handling.delete(msg)
        this.settle(msg, outcome)
      },
      (error) => {
        // The engine's receivers do not throw; if one does, retry rather than lose the event.
        this.handling.delete(msg)
        this.env.logger.error({ err: error }, 'durable receiver threw; the event will be redelivered')
        settle(() => msg.nak(this.env.options.ackWaitMs))
      },
    )
  }

  private settle(msg: JsMsg, outcome: DeliveryOutcome): void {
    if (outcome.action === 'ack') {
      settle(() => msg.ack())
    } else if (outcome.action === 'retry') {
      settle(() => msg.nak(outcome.delayMs))
    } else {
      this.env.deadLetters
        .publish({
          group: this.spec.group,
          subject: msg.subject,
          data: msg.data,
          reason: outcome.reason,
          attempts: msg.info.deliveryCount,
        })
        .then(
          () => settle(() => msg.ack()),
          (error) => {
            // Not stored as a dead letter, so it must not be acked: try again later.
            this.env.logger.error({ err: error, group: this.spec.group }, 'could not dead-letter an event')
            settle(() => msg.nak(this.env.options.ackWaitMs))
          },
        )
    }
  }

  private reportProgress(olderThanMs: number): void {
    const threshold = Date.now() - olderThanMs
    for (const [msg, started] of this.handling) if (started < threshold) settle(() => msg.working())
  }

  private async watch(messages: ConsumerMessages): Promise<void> {
    for await (const status of messages.status()) {
      if (messages !== this.messages || this.closing) return
      if (status.type === 'consumer_not_found' || status.type === 'stream_not_found') {
        this.env.logger.warn(
          { consumer: this.consumer.name, status: status.type },
          're-creating a missing consumer',
        )
        this.env.topology.reset()
        void this.recreate()
      }
    }
  }
}

/** Acks and naks are fire-and-forget publishes; on a closed connection the server redelivers anyway. */
function settle(action: () => void): void {
  try {
    action()
  } catch {
    // closed connection: nothing to do, the ack wait expires and the server redelivers
  }
}
