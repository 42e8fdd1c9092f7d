import { BridgeUnavailableError, type Logger } from '@conduit/core'
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage, Message, Options } from 'amqplib'
import { type AmqpTopology, DIRECT_REPLY_TO } from './topology.js'

/** What a bridge declared on the broker, by name (for inspection and test cleanup). */
export interface DeclaredTopology {
  readonly exchanges: ReadonlySet<string>
  readonly queues: ReadonlySet<string>
}

export class TopologyRecord implements DeclaredTopology {
  readonly exchanges = new Set<string>()
  readonly queues = new Set<string>()
}

export interface SessionHandlers {
  /** a response or error on this instance's direct reply-to */
  replied(message: ConsumeMessage): void
  /** a mandatory publish that RabbitMQ could not route */
  returned(message: Message): void
  /** the publish channel of `model` closed (maybe with the whole connection) */
  channelLost(model: ChannelModel, reason: string): void
}

/**
 * Everything that lives exactly as long as one connection:
 *
 * - the RPC channel: commands are published on it (mandatory, so unroutable ones come back as
 *   returns), the direct reply-to consumer runs on it (RabbitMQ delivers replies only to the
 *   channel that published the request) and replies leave through it. It is not in confirm
 *   mode: for a command the reply, the return or the loss of the connection already tells the
 *   caller what happened, and confirms cost RabbitMQ about a third more CPU per round trip.
 * - the confirm channel: events, retry and dead-letter copies. Each publish resolves only once
 *   RabbitMQ confirmed it (for a persistent message on a durable queue: written to disk).
 * - the cache of lazily declared queues.
 */
export class AmqpSession {
  private readonly declarations = new Map<string, Promise<void>>()

  private constructor(
    readonly model: ChannelModel,
    private readonly rpcChannel: Channel,
    private readonly confirmChannel: ConfirmChannel,
    private readonly record: TopologyRecord,
  ) {}

  static async open(
    model: ChannelModel,
    topology: AmqpTopology,
    record: TopologyRecord,
    handlers: SessionHandlers,
    logger: Logger,
  ): Promise<AmqpSession> {
    const rpcChannel = await model.createChannel()
    const confirmChannel = await model.createConfirmChannel()
    for (const channel of [rpcChannel, confirmChannel]) {
      channel.on('error', (error: Error) =>
        logger.warn({ reason: error.message }, 'amqp: publish channel error'),
      )
      // Deferred: when the whole connection drops, amqplib closes its channels first, in the
      // same tick; by the next one the connection supervisor knows and ignores this.
      channel.on('close', () => setImmediate(() => handlers.channelLost(model, 'a publish channel closed')))
    }
    rpcChannel.on('return', (message: Message) => handlers.returned(message))
    await confirmChannel.assertExchange(topology.eventsExchange, 'topic', { durable: true })
    record.exchanges.add(topology.eventsExchange)
    await rpcChannel.consume(DIRECT_REPLY_TO, (message) => message && handlers.replied(message), {
      noAck: true,
    })
    return new AmqpSession(model, rpcChannel, confirmChannel, record)
  }

  /** Sends a command or a reply on the RPC channel; throws BridgeUnavailableError if it is closed. */
  send(exchange: string, routingKey: string, content: Buffer, options: Options.Publish): void {
    try {
      this.rpcChannel.publish(exchange, routingKey, content, options)
    } catch (error) {
      throw new BridgeUnavailableError(`amqp: cannot publish (${(error as Error).message})`, { cause: error })
    }
  }

  /** Resolves when RabbitMQ confirmed the message; rejects on nack or when the channel closes first. */
  publish(exchange: string, routingKey: string, content: Buffer, options: Options.Publish): Promise<void> {
    return new Promise((resolve, reject) => {
      try {
        this.confirmChannel.publish(exchange, routingKey, content, options, (error: Error | null) => {
          if (error === null) resolve()
          else
            reject(
              new BridgeUnavailableError(`amqp: RabbitMQ did not confirm the publish (${error.message})`),
            )
        })
      } catch (error) {
        reject(
          new BridgeUnavailableError(`amqp: cannot publish (${(error as Error).message})`, { cause: error }),
        )
      }
    })
  }

  /**
   * Closes both publish channels gracefully before the connection goes. RabbitMQ handles a
   * channel's frames in order, so after close-ok every reply and ack sent on it was processed;
   * closing the connection right away instead can drop a direct reply-to reply still on its
   * way (seen with RabbitMQ 3.10).
   */
  async close(): Promise<void> {
    await Promise.allSettled([this.rpcChannel.close(), this.confirmChannel.close()])
  }

  /** Declares a queue once per connection; for queues created on first need (retry, dead letters). */
  ensureQueue(name: string, options: Options.AssertQueue): Promise<void> {
    let declared = this.declarations.get(name)
    if (declared === undefined) {
      declared = this.withChannel((channel) => channel.assertQueue(name, options)).then(() => {
        this.record.queues.add(name)
      })
      // A failed declaration is retried on the next need instead of failing forever.
      declared.catch(() => this.declarations.delete(name))
      this.declarations.set(name, declared)
    }
    return declared
  }

  /**
   * Runs one-off work on its own short-lived channel: a channel error (404, 406) closes only
   * that channel, never the publish channel.
   */
  async withChannel<T>(work: (channel: Channel) => Promise<T>): Promise<T> {
    const channel = await this.model.createChannel()
    channel.on('error', () => undefined) // the rejected operation carries the reason
    try {
      return await work(channel)
    } finally {
      await channel.close().catch(() => undefined)
    }
  }
}

/** Envelope bytes as a Buffer without copying. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}
