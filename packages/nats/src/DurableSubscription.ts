import type { Logger } from '@conduit/core'
import type {
  DeliveryOutcome,
  EventListenerSpec,
  EventReceiver,
  TransportHost,
  TransportListener,
} from '@conduit/core/transport'
import type { ConsumerMessages, JetStreamClient, JsMsg } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/transport-node'
import type { DeadLetters } from './DeadLetters.js'
import type { DurableInterest } from './DurableInterest.js'
import type { DurableConsumerSpec, JetStreamTopology } from './JetStreamTopology.js'
import type { ResolvedDurableOptions } from './options.js'
import type { NatsSubjects } from './subjects.js'

export interface DurableEnvironment {
  readonly nc: NatsConnection
  readonly js: JetStreamClient
  readonly topology: JetStreamTopology
  readonly interest: DurableInterest
  readonly deadLetters: DeadLetters
  readonly subjects: NatsSubjects
  readonly options: ResolvedDurableOptions
  readonly logger: Logger
  readonly host: TransportHost
}

/** how often re-creating a missing consumer is tried before waiting for the next report of it */
const RECREATE_ATTEMPTS = 20
/** Most messages pulled ahead of the handlers per instance. */
const MAX_PULL_BATCH = 512
/**
 * Deliveries past maxAttempts spent on storing a dead letter that the dead-letter stream keeps
 * refusing; then the message is terminated (reported, never redelivered forever).
 */
const DEAD_LETTER_RETRIES = 3
const DEAD_LETTER_RETRY_MS = 1000

/**
 * One durable subscription instance on a JetStream consumer shared by every instance of the
 * group. Messages are handled concurrently (bounded by the consumer's max_ack_pending) and
 * settled by the engine's outcome: ack after success, nak with the backoff delay to retry,
 * or copy the engine's record to the dead-letter stream and then ack.
 */
export class DurableSubscription implements TransportListener {
  private readonly consumer: DurableConsumerSpec
  private messages: ConsumerMessages | undefined
  /** set by pause(): pull nothing more, hand back what still arrives */
  private paused = false
  private closed = false
  /** messages whose handler runs, with when it started (to tell the server they are in progress) */
  private readonly handling = new Map<JsMsg, number>()
  private progressTimer: NodeJS.Timeout | undefined
  private recreating: Promise<void> | undefined
  private readonly context: Record<string, unknown>

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
    this.context = { group: spec.group, consumer: this.consumer.name }
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

  /** Stops pulling. Handlers in flight still settle their messages (acks need no pull loop). */
  async pause(): Promise<void> {
    if (this.paused) return
    this.paused = true
    await this.messages?.close()
    // The server must have the unsubscribe before an emit from elsewhere: a pull request it
    // still held would take the event into nowhere, to be redelivered only after the ack wait.
    if (!this.env.nc.isClosed()) await this.env.nc.flush()
  }

  /** After the engine drained: stops reporting progress; what is still unacked returns to the server. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.pause()
    clearInterval(this.progressTimer)
    // An instance's own consumer has no future reader; the group's shared one must persist.
    if (this.consumer.perInstance) {
      await this.env.topology
        .deleteConsumer(this.consumer.name)
        .catch((error) => this.env.logger.warn({ err: error }, 'could not delete per-instance consumer'))
    }
  }

  /** Right after a delete the server may refuse to re-create the stream for a moment: retry. */
  private async recreateWithRetries(): Promise<void> {
    for (let attempt = 1; !this.paused; attempt++) {
      try {
        this.env.topology.reset()
        await this.env.topology.ensureConsumer(this.consumer)
        if (this.paused) return
        // The old pull loop stays until the new one runs: if re-creating fails, it keeps
        // reporting the missing consumer, which starts another round.
        const previous = this.messages
        await this.consume()
        await previous?.close()
        if (this.paused) await this.messages?.close() // paused while we were re-creating
        return
      } catch (error) {
        const context = { ...this.context, err: error, attempt }
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
    this.watch(messages).catch((error) =>
      this.env.host.reportFailure('watch a consumer', error, this.context),
    )
  }

  private handle(msg: JsMsg): void {
    if (this.paused) {
      // Hand it back at once so another instance takes it, instead of after the ack wait.
      this.settle('nak an event', msg, () => msg.nak())
      return
    }
    this.handling.set(msg, Date.now())
    this.receive(msg.data, { attempt: msg.info.deliveryCount })
      .then((outcome) => this.apply(msg, outcome))
      .catch((error) => {
        // Receivers do not reject; if one does, redeliver (bounded) rather than lose the event.
        this.retryOrTerminate(msg, 'handle an event', error)
      })
      .finally(() => this.handling.delete(msg))
  }

  private apply(msg: JsMsg, outcome: DeliveryOutcome): Promise<void> | undefined {
    if (outcome.action === 'ack') {
      this.settle('ack an event', msg, () => msg.ack())
      return undefined
    }
    if (outcome.action === 'retry') {
      this.settle('nak an event', msg, () => msg.nak(outcome.delayMs))
      return undefined
    }
    const letter = {
      group: this.spec.group,
      subject: msg.subject,
      record: outcome.record,
      attempts: msg.info.deliveryCount,
    }
    return this.env.deadLetters.publish(letter).then(
      () => this.settle('ack an event', msg, () => msg.ack()),
      // Not stored as a dead letter, so not acked: try again later, a bounded number of times.
      (error) => this.retryOrTerminate(msg, 'dead-letter an event', error),
    )
  }

  /** Naks for a later try while deliveries remain; past the bound, terminates it and says so. */
  private retryOrTerminate(msg: JsMsg, action: string, error: unknown): void {
    const attempts = msg.info.deliveryCount
    const lastAttempt = this.spec.maxAttempts + DEAD_LETTER_RETRIES
    const context = { ...this.context, attempts, subject: msg.subject }
    if (attempts < lastAttempt) {
      this.env.host.reportFailure(action, error, { ...context, next: 'redelivered later' })
      this.settle('nak an event', msg, () =>
        msg.nak(Math.min(this.env.options.ackWaitMs, DEAD_LETTER_RETRY_MS)),
      )
    } else {
      this.env.host.reportFailure(action, error, { ...context, next: 'terminated: the event is dropped' })
      // No reason on the wire: servers before 2.10 take only a bare +TERM (the log has the reason).
      this.settle('terminate an event', msg, () => msg.term())
    }
  }

  /** Acks, naks and terms are publishes that throw only on a closed connection (the server redelivers). */
  private settle(action: string, msg: JsMsg, step: () => void): void {
    try {
      step()
    } catch (error) {
      this.env.host.reportFailure(action, error, { ...this.context, subject: msg.subject })
    }
  }

  private reportProgress(olderThanMs: number): void {
    const threshold = Date.now() - olderThanMs
    for (const [msg, started] of this.handling) {
      if (started < threshold) this.settle('report progress', msg, () => msg.working())
    }
  }

  private async watch(messages: ConsumerMessages): Promise<void> {
    for await (const status of messages.status()) {
      if (messages !== this.messages || this.paused) return
      if (status.type === 'consumer_not_found' || status.type === 'stream_not_found') {
        this.env.logger.warn({ ...this.context, status: status.type }, 're-creating a missing consumer')
        this.env.topology.reset()
        void this.recreate()
      }
    }
  }
}
