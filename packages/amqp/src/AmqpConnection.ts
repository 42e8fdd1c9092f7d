import { BridgeUnavailableError, type Logger } from '@conduit/core'
import { type ChannelModel, connect } from 'amqplib'
import { coalesceSocketWrites } from './coalesceWrites.js'
import type { ResolvedAmqpOptions } from './options.js'

/** Something that lives on a connection and must be rebuilt on every new one (a consumer). */
export interface Recoverable<S> {
  open(session: S): Promise<void>
}

export interface ConnectionHooks<S> {
  /** builds the per-connection state (publish channel, reply consumer); runs before recoverables */
  openSession(model: ChannelModel): Promise<S>
  /** the connection is gone (`reason` says how): fail whatever can no longer complete */
  lost(reason: string): void
}

const CONNECT_TIMEOUT_MS = 3_000
const SETUP_TIMEOUT_MS = 5_000

/**
 * One AMQP connection that comes back by itself. amqplib's plain connection does not
 * reconnect, so this supervisor does: after a loss it retries with exponential backoff and
 * jitter, rebuilds the session and re-opens every registered consumer, which re-declares its
 * queues and bindings. `session` is undefined while disconnected, so callers fail fast.
 */
export class AmqpConnection<S> {
  private model: ChannelModel | undefined
  private current: S | undefined
  private blocked = false
  private closing = false
  private reconnectTimer: NodeJS.Timeout | undefined
  private readonly recoverables = new Set<Recoverable<S>>()

  constructor(
    private readonly options: ResolvedAmqpOptions,
    private readonly logger: Logger,
    private readonly connectionName: string,
    private readonly hooks: ConnectionHooks<S>,
  ) {}

  /** The live session, or undefined while disconnected or reconnecting. */
  get session(): S | undefined {
    return this.current
  }

  isReady(): boolean {
    return this.current !== undefined && !this.blocked
  }

  /** First connection: fails at once if the broker is unreachable, so start() reports it. */
  async start(): Promise<void> {
    try {
      await this.establish()
    } catch (error) {
      throw new BridgeUnavailableError(
        `amqp: cannot connect to RabbitMQ at ${redactUrl(this.options.url)}: ${(error as Error).message}`,
        { cause: error },
      )
    }
  }

  /** Closes for good; `beforeClose` may still use the session (e.g. close its channels gracefully). */
  async close(beforeClose?: (session: S) => Promise<void>): Promise<void> {
    this.closing = true
    clearTimeout(this.reconnectTimer)
    const model = this.model
    const session = this.current
    this.model = undefined
    this.current = undefined
    this.recoverables.clear()
    if (session !== undefined && beforeClose) await beforeClose(session).catch(() => undefined)
    await model?.close().catch(() => undefined)
  }

  /** Opens `recoverable` on the live session and re-opens it after every reconnect. */
  async register(recoverable: Recoverable<S>): Promise<void> {
    const session = this.current
    if (session === undefined) throw unavailable()
    this.recoverables.add(recoverable)
    try {
      await recoverable.open(session)
    } catch (error) {
      this.recoverables.delete(recoverable)
      throw error
    }
  }

  forget(recoverable: Recoverable<S>): void {
    this.recoverables.delete(recoverable)
  }

  /**
   * Forces a full recovery (reconnect, re-declare, re-consume). Used when a channel that must
   * stay up closed under us; rare, and one recovery path is easier to trust than several.
   */
  recover(model: ChannelModel, reason: string): void {
    if (this.closing || model !== this.model || this.model === undefined) return
    this.logger.warn({ reason }, 'amqp: recovering the connection')
    this.model.close().catch(() => undefined)
  }

  private async establish(): Promise<void> {
    const url = new URL(this.options.url)
    if (!url.searchParams.has('heartbeat'))
      url.searchParams.set('heartbeat', String(this.options.heartbeatSeconds))
    // noDelay: a command or a reply is one small write; Nagle's algorithm would hold it back
    // until the previous segment is acknowledged, adding up to tens of ms to a round trip.
    // timeout bounds the TCP connect and the AMQP handshake: a broker that is still booting can
    // accept the socket and then say nothing, and an attempt that never ends is never retried.
    const model = await connect(url.toString(), {
      noDelay: true,
      timeout: CONNECT_TIMEOUT_MS,
      clientProperties: { connection_name: this.connectionName },
    })
    coalesceSocketWrites(model)
    let closed = false
    model.on('error', (error: Error) => this.logger.warn({ reason: error.message }, 'amqp: connection error'))
    model.on('close', (error?: Error) => {
      closed = true
      this.lost(model, error)
    })
    model.on('blocked', (reason: string) => {
      this.blocked = true
      this.logger.warn({ reason }, 'amqp: RabbitMQ blocked the connection (resource alarm); not ready')
    })
    model.on('unblocked', () => {
      this.blocked = false
    })
    // The same holds after the handshake: a declare can wait on a queue the booting broker has
    // not recovered yet. Past the bound the socket is destroyed (a graceful close would wait for
    // the same silent broker), which fails whatever is pending, and the attempt is retried.
    const setupTimer = setTimeout(() => {
      this.logger.warn(
        { timeoutMs: SETUP_TIMEOUT_MS },
        'amqp: setting up the connection took too long; retrying',
      )
      abandon(model)
    }, SETUP_TIMEOUT_MS)
    try {
      const session = await this.hooks.openSession(model)
      for (const recoverable of this.recoverables) {
        try {
          await recoverable.open(session)
        } catch (error) {
          if (closed) throw error
          // One consumer that cannot be rebuilt (e.g. its queue was redeclared with other
          // arguments) must not keep every other one offline.
          this.logger.error({ err: error }, 'amqp: could not re-open a consumer after reconnecting')
        }
      }
      if (closed || this.closing) throw new Error('connection closed while it was being set up')
      this.model = model
      this.current = session
      this.blocked = false
    } catch (error) {
      await model.close().catch(() => undefined)
      throw error
    } finally {
      clearTimeout(setupTimer)
    }
  }

  private lost(model: ChannelModel, error: Error | undefined): void {
    if (model !== this.model) return
    this.model = undefined
    this.current = undefined
    const reason = error?.message ?? 'closed by the broker'
    this.hooks.lost(reason)
    if (this.closing) return
    this.logger.warn({ reason }, 'amqp: connection lost; reconnecting')
    this.scheduleReconnect(0)
  }

  private scheduleReconnect(attempt: number): void {
    if (this.closing) return
    const { reconnectInitialMs, reconnectMaxMs } = this.options
    const base = Math.min(reconnectMaxMs, reconnectInitialMs * 2 ** attempt)
    // Jitter spreads the reconnects of many instances after a broker restart.
    const delay = Math.round(base * (0.75 + Math.random() * 0.5))
    this.reconnectTimer = setTimeout(() => {
      this.establish().then(
        () =>
          this.logger.info({ attempt: attempt + 1 }, 'amqp: reconnected; topology and consumers restored'),
        (error: Error) => {
          this.logger.debug({ attempt: attempt + 1, reason: error.message }, 'amqp: reconnect attempt failed')
          this.scheduleReconnect(attempt + 1)
        },
      )
    }, delay)
  }
}

export function unavailable(): BridgeUnavailableError {
  return new BridgeUnavailableError('amqp: not connected to RabbitMQ (reconnecting or stopped)')
}

/** Drops a connection without the close handshake; falls back to close() if the socket is out of reach. */
function abandon(model: ChannelModel): void {
  const stream = (model as unknown as { connection?: { stream?: { destroy?(): void } } }).connection?.stream
  if (typeof stream?.destroy === 'function') stream.destroy()
  else model.close().catch(() => undefined)
}

/** Never log credentials. */
function redactUrl(raw: string): string {
  try {
    const url = new URL(raw)
    if (url.password) url.password = '***'
    return url.toString()
  } catch {
    return 'an invalid URL'
  }
}
