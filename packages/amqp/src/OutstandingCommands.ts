import { type BridgeUnavailableError, NoHandlerError } from '@conduit/core'
import type { ConsumeMessage, Message } from 'amqplib'

interface OutstandingCommand {
  readonly destination: string
  readonly deadline: number
  resolve(): void
  reject(error: unknown): void
}

/** How often entries whose deadline passed are dropped (the engine has timed them out already). */
const SWEEP_INTERVAL_MS = 1_000

/**
 * Commands this instance sent and still expects an answer for, by correlation id. The engine
 * owns the caller's promise and its timeout; this only keeps what the transport alone can tell
 * it: that RabbitMQ returned the command as unroutable (no handler), or that the connection
 * carrying the direct reply-to channel died, so the reply can never arrive. Either fails the
 * call at once instead of at its deadline.
 */
export class OutstandingCommands {
  private readonly commands = new Map<string, OutstandingCommand>()
  private sweeper: NodeJS.Timeout | undefined

  constructor(private readonly receiveReply: (raw: Uint8Array) => void) {}

  get size(): number {
    return this.commands.size
  }

  /** Settles when the reply arrives (resolve) or the transport knows it never will (reject). */
  track(correlationId: string, destination: string, deadline: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.commands.set(correlationId, { destination, deadline, resolve, reject })
      // One unref'd timer for all entries, kept until failAll: cheaper than a timer per call.
      this.sweeper ??= setInterval(() => this.sweep(), SWEEP_INTERVAL_MS).unref()
    })
  }

  /** Fails one command, e.g. when its publish was not confirmed. */
  fail(correlationId: string, error: unknown): void {
    this.take(correlationId)?.reject(error)
  }

  /** Every reply goes to the engine, which matches it to the caller; the entry here just ends. */
  replied(message: ConsumeMessage): void {
    this.receiveReply(message.content)
    const correlationId = message.properties.correlationId as string | undefined
    if (correlationId !== undefined) this.take(correlationId)?.resolve()
  }

  /** A mandatory command came back: no queue is bound for it, so no instance serves the command. */
  returned(message: Message): void {
    const correlationId = message.properties.correlationId as string | undefined
    const command = correlationId === undefined ? undefined : this.take(correlationId)
    // amqplib's types omit the fields of basic.return; replyText is e.g. NO_ROUTE
    const replyText = (message.fields as { replyText?: string }).replyText ?? 'unroutable'
    command?.reject(
      new NoHandlerError(
        `No handler for ${command.destination} on amqp (RabbitMQ returned it: ${replyText})`,
        {
          correlationId,
        },
      ),
    )
  }

  failAll(error: BridgeUnavailableError): void {
    const commands = [...this.commands.values()]
    this.commands.clear()
    this.stopSweeper()
    for (const command of commands) command.reject(error)
  }

  private take(correlationId: string): OutstandingCommand | undefined {
    const command = this.commands.get(correlationId)
    if (command === undefined) return undefined
    this.commands.delete(correlationId)
    return command
  }

  private sweep(): void {
    const now = Date.now()
    for (const [correlationId, command] of this.commands) {
      if (command.deadline < now) this.take(correlationId)?.resolve()
    }
  }

  private stopSweeper(): void {
    clearInterval(this.sweeper)
    this.sweeper = undefined
  }
}
