import type { Logger } from '@conduit/core'
import type { DeliveryOutcome, TransportHost, TransportListener } from '@conduit/core/transport'
import type { Channel, ConsumeMessage } from 'amqplib'
import type { AmqpConnection, Recoverable } from './AmqpConnection.js'
import type { AmqpSession } from './AmqpSession.js'

type ReportFailure = TransportHost['reportFailure']

interface ConsumerChannel {
  readonly channel: Channel
  consumerTag: string
  open: boolean
}

/** Settles one delivery on the channel it came from, once; every failure is reported. */
export class Settlement {
  private settled = false

  constructor(
    private readonly consumer: ConsumerChannel,
    private readonly message: ConsumeMessage,
    private readonly label: string,
    private readonly reportFailure: ReportFailure,
  ) {}

  /** False when the delivery's channel closed: RabbitMQ redelivers it, so do nothing more with it. */
  get live(): boolean {
    return this.consumer.open
  }

  /** True when RabbitMQ delivered this message before (to a consumer that did not settle it). */
  get redelivered(): boolean {
    return this.message.fields.redelivered
  }

  ack(): void {
    this.settle('ack', (channel) => channel.ack(this.message))
  }

  /** Hands the message back to its queue. Every caller bounds how often that can happen. */
  requeue(): void {
    this.settle('requeue', (channel) => channel.nack(this.message, false, true))
  }

  /** Removes the message for good (Conduit's queues have no dead-letter exchange). */
  discard(): void {
    this.settle('discard', (channel) => channel.nack(this.message, false, false))
  }

  private settle(action: string, work: (channel: Channel) => void): void {
    if (this.settled) return
    this.settled = true
    try {
      // RabbitMQ hands a delivery of a closed channel to a consumer again: a handler may see it twice.
      if (!this.consumer.open) throw new Error('its channel closed; RabbitMQ redelivers it')
      work(this.consumer.channel)
    } catch (error) {
      const context = { consumer: this.label, messageId: this.message.properties.messageId }
      this.reportFailure(`${action} a delivery`, error, context)
    }
  }
}

/** What one consumer does; QueueConsumer owns the channel and its recovery. */
export interface ConsumerSetup {
  /** for logs, e.g. `command calc.v1.add` */
  readonly label: string
  /** declares the queue (and bindings) on the consumer's channel; returns the queue to consume */
  declare(channel: Channel, session: AmqpSession): Promise<string>
  /** hands one delivery to the engine; resolves with the engine's outcome */
  receive(message: ConsumeMessage, settlement: Settlement): Promise<DeliveryOutcome>
  /** does what the engine decided: an ack at once, or a promise for a copy then the ack */
  apply(message: ConsumeMessage, settlement: Settlement, outcome: DeliveryOutcome): Promise<void> | void
  /** after the consumer closed for good (not after a connection loss) */
  afterClose?(session: AmqpSession): Promise<void>
}

/**
 * One consumer on its own channel, so its prefetch is its own and a channel error in it (a
 * 404, a 406) never takes other consumers down. Registered with the connection, it is rebuilt
 * (queue re-declared, consumer re-created) after every reconnect until it is paused.
 *
 * The engine stops it: `pause()` cancels the consumer, the engine waits for its handlers, then
 * `close()` closes the channel; whatever is still unacked then goes back to the queue.
 */
export class QueueConsumer implements Recoverable<AmqpSession>, TransportListener {
  private current: ConsumerChannel | undefined
  private paused = false
  private closed: Promise<void> | undefined
  /** outcomes being applied (a copy waiting for its confirm, then the ack); close() lets them end */
  private readonly applying = new Set<Promise<void>>()

  constructor(
    private readonly setup: ConsumerSetup,
    private readonly connection: AmqpConnection<AmqpSession>,
    private readonly prefetch: number,
    private readonly logger: Logger,
    private readonly reportFailure: ReportFailure,
  ) {}

  async open(session: AmqpSession): Promise<void> {
    const channel = await session.model.createChannel()
    // Created before consume(): amqplib may hand over the first delivery before consume() resolves.
    const consumer: ConsumerChannel = { channel, consumerTag: '', open: true }
    channel.on('error', (error: Error) =>
      this.logger.warn({ consumer: this.setup.label, reason: error.message }, 'amqp: consumer channel error'),
    )
    channel.on('close', () => {
      consumer.open = false
      // A consumer channel closing under a live connection means the consumer is gone; the
      // connection-wide recovery brings it back (and ignores this when the connection itself died).
      if (!this.paused && consumer === this.current) {
        setImmediate(() =>
          this.connection.recover(session.model, `${this.setup.label}: consumer channel closed`),
        )
      }
    })
    try {
      await channel.prefetch(this.prefetch)
      const queue = await this.setup.declare(channel, session)
      const { consumerTag } = await channel.consume(queue, (message) =>
        this.deliver(consumer, message, session),
      )
      consumer.consumerTag = consumerTag
    } catch (error) {
      await channel.close().catch(() => undefined)
      throw error
    }
    if (this.paused) {
      // paused while this was opening (e.g. during a reconnect): do not leave it consuming
      await channel.close().catch(() => undefined)
      return
    }
    this.current = consumer
  }

  /** Stops deliveries (basic.cancel) and keeps it from coming back after a reconnect. */
  async pause(): Promise<void> {
    if (this.paused) return
    this.paused = true
    this.connection.forget(this)
    const consumer = this.current
    if (!consumer?.open) return
    try {
      await consumer.channel.cancel(consumer.consumerTag)
    } catch (error) {
      this.reportFailure('cancel a consumer', error, { consumer: this.setup.label })
    }
  }

  /** After the engine drained: lets outcomes being applied finish, then closes the channel. */
  close(): Promise<void> {
    this.closed ??= this.closeOnce()
    return this.closed
  }

  private async closeOnce(): Promise<void> {
    await this.pause()
    await Promise.allSettled([...this.applying])
    const consumer = this.current
    this.current = undefined
    // A graceful channel close makes RabbitMQ process every ack sent on it first; a connection
    // closed right after an ack may lose it and redeliver the message.
    if (consumer?.open) {
      await consumer.channel
        .close()
        .catch((error: unknown) =>
          this.reportFailure('close a consumer channel', error, { consumer: this.setup.label }),
        )
    }
    const session = this.connection.session
    if (session === undefined || this.setup.afterClose === undefined) return
    await this.setup
      .afterClose(session)
      .catch((error: unknown) =>
        this.reportFailure('clean up after a consumer', error, { consumer: this.setup.label }),
      )
  }

  private deliver(consumer: ConsumerChannel, message: ConsumeMessage | null, session: AmqpSession): void {
    if (message === null) {
      // RabbitMQ cancelled the consumer (its queue was deleted): rebuild the topology.
      if (!this.paused)
        this.connection.recover(session.model, `${this.setup.label}: consumer cancelled by RabbitMQ`)
      return
    }
    const settlement = new Settlement(consumer, message, this.setup.label, this.reportFailure)
    if (this.paused) {
      // Sent before RabbitMQ took the cancel: another instance can take it now. Bounded: this
      // happens only in the moment one listener stops.
      settlement.requeue()
      return
    }
    this.setup.receive(message, settlement).then(
      (outcome) => {
        const copying = this.setup.apply(message, settlement, outcome)
        if (copying instanceof Promise) this.track(copying)
      },
      (error: unknown) => {
        // The engine's receivers never reject; if one did, the message must still end.
        this.reportFailure('receive a delivery', error, { consumer: this.setup.label })
        settlement.ack()
      },
    )
  }

  private track(copying: Promise<void>): void {
    const applying = copying
      .catch((error: unknown) =>
        this.reportFailure('settle a delivery', error, { consumer: this.setup.label }),
      )
      .finally(() => this.applying.delete(applying))
    this.applying.add(applying)
  }
}
