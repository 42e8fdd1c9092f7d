import type { Logger } from '@conduit/core'
import type { Channel, ConsumeMessage } from 'amqplib'
import type { AmqpConnection, Recoverable } from './AmqpConnection.js'
import type { AmqpSession } from './AmqpSession.js'

/** Settles one delivery on the channel it came from; a no-op once settled or once that channel is gone. */
export class Settlement {
  private settled = false

  constructor(
    private readonly consumer: ConsumerChannel,
    private readonly message: ConsumeMessage,
  ) {}

  /** False when the delivery's channel closed: RabbitMQ redelivers it, so do nothing more with it. */
  get live(): boolean {
    return this.consumer.open
  }

  ack(): void {
    this.settle((channel) => channel.ack(this.message))
  }

  /** Hands the message back to its queue (another instance, or this one later). */
  requeue(): void {
    this.settle((channel) => channel.nack(this.message, false, true))
  }

  private settle(action: (channel: Channel) => void): void {
    if (this.settled || !this.consumer.open) return
    this.settled = true
    try {
      action(this.consumer.channel)
    } catch {
      // The channel closed between the check and the call; the broker redelivers.
    }
  }
}

/** What a consumer does; QueueConsumer owns the channel, its recovery and the drain on close. */
export interface ConsumerSetup {
  /** for logs, e.g. `command calc.v1.add` */
  readonly label: string
  /** declares the queue (and bindings) on the consumer's channel; returns the queue to consume */
  declare(channel: Channel, session: AmqpSession): Promise<string>
  /** handles one delivery and settles it; a rejection requeues it */
  handle(message: ConsumeMessage, settlement: Settlement): Promise<void>
  /** after the consumer closed for good (not after a connection loss) */
  afterClose?(session: AmqpSession): Promise<void>
}

interface ConsumerChannel {
  readonly channel: Channel
  consumerTag: string
  open: boolean
}

/**
 * One consumer on its own channel, so its prefetch is its own and a channel error in it (a
 * 404, a 406) never takes other consumers down. Registered with the connection, it is rebuilt
 * (queue re-declared, consumer re-created) after every reconnect.
 */
export class QueueConsumer implements Recoverable<AmqpSession> {
  private current: ConsumerChannel | undefined
  private inFlight = 0
  private closing = false
  private channelClosed: Promise<void> = Promise.resolve()
  private markRetired: () => void = () => undefined
  /** Resolves once closed for good and its channel is closed (handlers in flight settled). */
  readonly retired = new Promise<void>((resolve) => {
    this.markRetired = resolve
  })

  constructor(
    private readonly setup: ConsumerSetup,
    private readonly connection: AmqpConnection<AmqpSession>,
    private readonly prefetch: number,
    private readonly logger: Logger,
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
      if (!this.closing && consumer === this.current) {
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
    if (this.closing) {
      // close() ran while this was opening (e.g. during a reconnect): do not leave it consuming.
      await channel.close().catch(() => undefined)
      return
    }
    this.current = consumer
  }

  /** Stops deliveries at once; the channel closes when the handlers in flight have settled. */
  async close(): Promise<void> {
    if (this.closing) return
    this.closing = true
    this.connection.forget(this)
    const consumer = this.current
    if (consumer?.open) await consumer.channel.cancel(consumer.consumerTag).catch(() => undefined)
    if (this.inFlight === 0) await this.closeChannel()
    const session = this.connection.session
    if (session && this.setup.afterClose) {
      await this.setup
        .afterClose(session)
        .catch((error: Error) =>
          this.logger.warn(
            { consumer: this.setup.label, reason: error.message },
            'amqp: cleanup after close failed',
          ),
        )
    }
  }

  private deliver(consumer: ConsumerChannel, message: ConsumeMessage | null, session: AmqpSession): void {
    if (message === null) {
      // RabbitMQ cancelled the consumer (its queue was deleted): rebuild the topology.
      if (!this.closing)
        this.connection.recover(session.model, `${this.setup.label}: consumer cancelled by RabbitMQ`)
      return
    }
    const settlement = new Settlement(consumer, message)
    if (this.closing) {
      // Arrived between cancel and cancel-ok: leave it to another instance.
      settlement.requeue()
      return
    }
    this.inFlight++
    this.setup
      .handle(message, settlement)
      .catch((error: Error) => {
        this.logger.warn({ consumer: this.setup.label, reason: error.message }, 'amqp: requeued a delivery')
        settlement.requeue()
      })
      .finally(() => {
        this.inFlight--
        if (this.closing && this.inFlight === 0) void this.closeChannel()
      })
  }

  /**
   * For disconnect: closes the channel now, even with handlers still in flight (their messages
   * go back to the queue). A graceful channel close also makes RabbitMQ process every ack sent
   * on it first; a connection closed right after an ack may lose it, and redeliver the message.
   */
  async shutdown(): Promise<void> {
    await this.close()
    await this.closeChannel()
  }

  private closeChannel(): Promise<void> {
    const consumer = this.current
    this.current = undefined
    if (consumer?.open) this.channelClosed = consumer.channel.close().catch(() => undefined)
    if (this.closing) void this.channelClosed.then(this.markRetired)
    return this.channelClosed
  }
}
