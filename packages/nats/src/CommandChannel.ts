import {
  type CommandAddress,
  type CommandReceiver,
  commandAddressKey,
  type Envelope,
  encodeEnvelope,
  NoHandlerError,
  type ReplySender,
  type TransportHost,
  type TransportListener,
} from '@conduit/core'
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node'
import { NATS_BRIDGE_NAME } from './options.js'
import type { NatsSubjects } from './subjects.js'

interface SentCommand {
  readonly address: CommandAddress
  /** when to forget the entry if no reply ever comes (the engine has timed out by then) */
  readonly forgetAt: number
  resolve(): void
  reject(error: Error): void
}

const NO_REPLY: ReplySender = async () => undefined
const FORGET_GRACE_MS = 1000
const SWEEP_INTERVAL_MS = 1000

/**
 * Commands over core NATS request/reply without nc.request(): one wildcard subscription per
 * bridge instance receives every reply, and each command is published with its own reply
 * subject `<inbox>.<token>`. Replies go straight to the engine (it correlates by the envelope's
 * correlation id); the token exists only so that the server's "no responders" status, which
 * carries no body, can be matched to its call and fail it at once with a NoHandlerError.
 */
export class CommandChannel {
  private readonly sent = new Map<string, SentCommand>()
  /** the engine hands the same frozen address object for every call of a definition; cache those */
  private readonly subjectOf = new WeakMap<CommandAddress, string>()
  private readonly inbox: string
  private nextToken = 0
  private inboxSubscription: Subscription | undefined
  private sweepTimer: NodeJS.Timeout | undefined

  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: NatsSubjects,
    private readonly host: TransportHost,
    private readonly maxPayload: () => number,
  ) {
    this.inbox = subjects.replyInbox(host.instanceId)
  }

  async start(): Promise<void> {
    const tokenStart = this.inbox.length + 1
    this.inboxSubscription = this.nc.subscribe(`${this.inbox}.*`, {
      callback: (error, msg) => {
        if (error) this.host.logger.error({ err: error }, 'reply inbox subscription failed')
        else this.receiveReply(msg, msg.subject.slice(tokenStart))
      },
    })
    // The server must know the inbox before the first reply can be routed to it.
    await this.nc.flush()
    this.sweepTimer = setInterval(() => this.forgetExpired(), SWEEP_INTERVAL_MS)
    this.sweepTimer.unref()
  }

  stop(): void {
    clearInterval(this.sweepTimer)
    this.inboxSubscription?.unsubscribe()
    for (const sent of this.sent.values()) sent.resolve()
    this.sent.clear()
  }

  /** Resolves when a reply arrives; rejects with NoHandlerError when nothing listens. */
  send(address: CommandAddress, command: Envelope): Promise<void> {
    let subject = this.subjectOf.get(address)
    if (subject === undefined) {
      subject = this.subjects.command(address)
      if (Object.isFrozen(address)) this.subjectOf.set(address, subject)
    }
    const bytes = encodeEnvelope(command, this.maxPayload(), NATS_BRIDGE_NAME)
    const token = (this.nextToken++).toString(36)
    const forgetAt = (command.deadline ?? Date.now()) + FORGET_GRACE_MS
    return new Promise<void>((resolve, reject) => {
      this.sent.set(token, { address, forgetAt, resolve, reject })
      try {
        this.nc.publish(subject, bytes, { reply: `${this.inbox}.${token}` })
      } catch (error) {
        this.sent.delete(token)
        reject(error)
      }
    })
  }

  /** Serves one command address: a queue group per service version shares the work. */
  async listen(address: CommandAddress, receive: CommandReceiver): Promise<TransportListener> {
    const subscription = this.nc.subscribe(this.subjects.command(address), {
      queue: this.subjects.commandQueue(address),
      callback: (error, msg) => {
        if (error) {
          this.host.logger.error(
            { err: error, command: commandAddressKey(address) },
            'command subscription failed',
          )
          return
        }
        void receive(msg.data, msg.reply ? this.replyTo(msg.reply) : NO_REPLY)
      },
    })
    // Callers in other processes must not see "no responders" once listen() has returned.
    await this.nc.flush()
    return {
      close: async () => {
        if (!this.nc.isClosed() && !subscription.isClosed()) await subscription.drain()
      },
    }
  }

  private replyTo(replySubject: string): ReplySender {
    return async (response) => {
      this.nc.publish(replySubject, encodeEnvelope(response, this.maxPayload(), NATS_BRIDGE_NAME))
    }
  }

  private receiveReply(msg: Msg, token: string): void {
    const sent = this.sent.get(token)
    if (sent) this.sent.delete(token)
    if (msg.data.length === 0 && msg.headers?.code === 503) {
      if (sent) {
        const key = commandAddressKey(sent.address)
        sent.reject(new NoHandlerError(`No instance serves ${key} on ${NATS_BRIDGE_NAME} (no responders)`))
      }
      return
    }
    sent?.resolve()
    this.host.receiveReply(msg.data)
  }

  /** Drops entries whose reply never came; the engine has already failed those calls. */
  private forgetExpired(): void {
    const now = Date.now()
    for (const [token, sent] of this.sent) {
      if (sent.forgetAt < now) {
        this.sent.delete(token)
        sent.resolve()
      }
    }
  }
}
