import { BridgeUnavailableError, type Logger } from '@conduit/core'
import type { TransportHost } from '@conduit/core/transport'
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node'

interface PubAck {
  stream?: string
  seq?: number
  error?: { code?: number; description?: string }
}

const decoder = new TextDecoder()

/**
 * Acknowledged JetStream publishes without nc.request(). A JetStream publish is a core publish
 * with a reply subject; the stream answers there with `{stream, seq}` or `{error}`. nats.js'
 * js.publish() goes through request(), which per call starts a timer, races two promises and
 * builds an Error with a stack trace even on success (about a quarter of a durable emit's
 * CPU). Here every ack comes to one wildcard subscription, with the event's envelope id as the
 * last token of the reply subject; the engine keeps the waiting table and the timeout
 * (`host.awaitConfirmation`), as it does for command replies.
 */
export class JetStreamPublisher {
  private subscription: Subscription | undefined

  constructor(
    private readonly nc: NatsConnection,
    /** `<p>.ack.<instance>`; each publish appends its envelope id */
    private readonly inbox: string,
    private readonly timeoutMs: number,
    private readonly host: Pick<TransportHost, 'awaitConfirmation' | 'settleConfirmation'>,
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
  }

  stop(): void {
    this.subscription?.unsubscribe()
  }

  /** Resolves once the stream stored the message; rejects with BridgeUnavailableError otherwise. */
  publish(subject: string, data: Uint8Array, id: string): Promise<void> {
    const confirmed = this.host.awaitConfirmation(id, this.timeoutMs, () =>
      unconfirmed(subject, `no ack within ${this.timeoutMs} ms`),
    )
    try {
      this.nc.publish(subject, data, { reply: `${this.inbox}.${id}` })
    } catch (error) {
      this.host.settleConfirmation(id, unconfirmed(subject, (error as Error).message))
    }
    return confirmed
  }

  private settle(id: string, msg: Msg): void {
    if (msg.data.length === 0 && msg.headers?.code === 503) {
      this.host.settleConfirmation(
        id,
        unconfirmed(msg.subject, 'no stream captures the subject (no responders)'),
      )
      return
    }
    let reply: PubAck
    try {
      reply = JSON.parse(decoder.decode(msg.data)) as PubAck
    } catch {
      this.host.settleConfirmation(id, unconfirmed(msg.subject, 'unreadable JetStream reply'))
      return
    }
    if (reply.error || typeof reply.seq !== 'number') {
      const reason = reply.error?.description ?? 'no sequence in the JetStream reply'
      this.host.settleConfirmation(id, unconfirmed(msg.subject, reason))
    } else {
      this.host.settleConfirmation(id)
    }
  }
}

function unconfirmed(subject: string, reason: string): BridgeUnavailableError {
  return new BridgeUnavailableError(`JetStream did not confirm the event on ${subject}: ${reason}`)
}
