import { BridgeUnavailableError, type Logger } from '@conduit/core'
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node'

interface PendingAck {
  readonly subject: string
  readonly expiresAt: number
  resolve(): void
  reject(error: Error): void
}

interface PubAck {
  stream?: string
  seq?: number
  error?: { code?: number; description?: string }
}

const SWEEP_INTERVAL_MS = 100
const decoder = new TextDecoder()

/**
 * Acknowledged JetStream publishes without nc.request(). A JetStream publish is a core publish
 * with a reply subject; the stream answers there with `{stream, seq}` or `{error}`. nats.js'
 * js.publish() goes through request(), which per call starts a timer, races two promises and
 * builds an Error with a stack trace even on success (about a quarter of a durable emit's
 * CPU). Here every ack comes to one wildcard subscription, matched by a token in the reply
 * subject, and one sweep timer fails the publishes whose ack is late.
 */
export class JetStreamPublisher {
  private readonly pending = new Map<string, PendingAck>()
  private nextToken = 0
  private subscription: Subscription | undefined
  private sweepTimer: NodeJS.Timeout | undefined

  constructor(
    private readonly nc: NatsConnection,
    /** `<p>.ack.<instance>`; each publish appends a token */
    private readonly inbox: string,
    private readonly timeoutMs: number,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    const tokenStart = this.inbox.length + 1
    this.subscription = this.nc.subscribe(`${this.inbox}.*`, {
      callback: (error, msg) => {
        if (error) this.logger.error({ err: error }, 'JetStream ack subscription failed')
        else this.settle(msg.subject.slice(tokenStart), msg)
      },
    })
    await this.nc.flush()
    this.sweepTimer = setInterval(() => this.failExpired(), SWEEP_INTERVAL_MS)
    this.sweepTimer.unref()
  }

  stop(): void {
    clearInterval(this.sweepTimer)
    this.subscription?.unsubscribe()
    const stopped = new BridgeUnavailableError('the NATS bridge stopped before JetStream confirmed the event')
    for (const ack of this.pending.values()) ack.reject(stopped)
    this.pending.clear()
  }

  /** Resolves once the stream stored the message; rejects with BridgeUnavailableError otherwise. */
  publish(subject: string, data: Uint8Array): Promise<void> {
    const token = (this.nextToken++).toString(36)
    return new Promise<void>((resolve, reject) => {
      this.pending.set(token, { subject, expiresAt: Date.now() + this.timeoutMs, resolve, reject })
      try {
        this.nc.publish(subject, data, { reply: `${this.inbox}.${token}` })
      } catch (error) {
        this.pending.delete(token)
        reject(error)
      }
    })
  }

  private settle(token: string, msg: Msg): void {
    const ack = this.pending.get(token)
    if (!ack) return // already timed out
    this.pending.delete(token)
    if (msg.data.length === 0 && msg.headers?.code === 503) {
      ack.reject(this.unconfirmed(ack.subject, 'no stream captures the subject (no responders)'))
      return
    }
    let reply: PubAck
    try {
      reply = JSON.parse(decoder.decode(msg.data)) as PubAck
    } catch {
      ack.reject(this.unconfirmed(ack.subject, 'unreadable JetStream reply'))
      return
    }
    if (reply.error || typeof reply.seq !== 'number') {
      ack.reject(
        this.unconfirmed(ack.subject, reply.error?.description ?? 'no sequence in the JetStream reply'),
      )
    } else {
      ack.resolve()
    }
  }

  private failExpired(): void {
    const now = Date.now()
    // one timeout for all, so insertion order is expiry order
    for (const [token, ack] of this.pending) {
      if (ack.expiresAt > now) return
      this.pending.delete(token)
      ack.reject(this.unconfirmed(ack.subject, `no ack within ${this.timeoutMs} ms`))
    }
  }

  private unconfirmed(subject: string, reason: string): BridgeUnavailableError {
    return new BridgeUnavailableError(`JetStream did not confirm the event on ${subject}: ${reason}`)
  }
}
