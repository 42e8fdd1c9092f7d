import { commandAddressKey, NoHandlerError } from '@conduit/core'
import type {
  CommandAddress,
  CommandReceiver,
  OutboundMessage,
  RefusedReply,
  ReplySender,
  TransportHost,
  TransportListener,
} from '@conduit/core/transport'
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node'
import { coreListener } from './coreListener.js'
import { NATS_BRIDGE_NAME } from './options.js'
import type { NatsSubjects } from './subjects.js'

/** A command published without a reply subject (fire and forget): its answer goes nowhere. */
const DISCARD_REPLY: ReplySender = () => undefined

/**
 * Commands over core NATS request/reply without nc.request() and without a table of calls: one
 * wildcard subscription per bridge instance receives every reply, and each command is published
 * with the reply subject `<inbox>.<envelope id>`. Replies go straight to the engine, which
 * matches them by `inReplyTo`; the id in the subject exists for the server's "no responders"
 * status, which has no body, so that the engine can fail that one call at once.
 */
export class CommandChannel {
  /** the engine hands the same frozen address object for every call of a definition; cache those */
  private readonly subjectOf = new WeakMap<CommandAddress, string>()
  private readonly inbox: string
  private inboxSubscription: Subscription | undefined

  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: NatsSubjects,
    private readonly host: TransportHost,
  ) {
    this.inbox = subjects.replyInbox(host.instanceId)
  }

  async start(): Promise<void> {
    const idStart = this.inbox.length + 1
    this.inboxSubscription = this.nc.subscribe(`${this.inbox}.*`, {
      callback: (error, msg) => {
        if (error) this.host.reportFailure('receive replies', error)
        else this.receiveReply(msg, idStart)
      },
    })
    // The server must know the inbox before the first reply can be routed to it.
    await this.nc.flush()
  }

  stop(): void {
    this.inboxSubscription?.unsubscribe()
  }

  /**
   * Publishes the command; resolves once nats.js took it (the engine waits for the reply).
   * Envelope ids are base64url plus '-' and base36 digits: always one legal subject token.
   */
  send(address: CommandAddress, command: OutboundMessage): Promise<void> {
    let subject = this.subjectOf.get(address)
    if (subject === undefined) {
      subject = this.subjects.command(address)
      if (Object.isFrozen(address)) this.subjectOf.set(address, subject)
    }
    this.nc.publish(subject, command.bytes, { reply: `${this.inbox}.${command.envelope.id}` })
    return Promise.resolve()
  }

  /** Serves one command address: a queue group per service version shares the work. */
  async listen(address: CommandAddress, receive: CommandReceiver): Promise<TransportListener> {
    const context = { command: commandAddressKey(address) }
    const report = (error: unknown) => this.host.reportFailure('handle a command', error, context)
    const subscription = this.nc.subscribe(this.subjects.command(address), {
      queue: this.subjects.commandQueue(address),
      callback: (error, msg) => {
        if (error) report(error)
        // Core NATS keeps no copy to settle or dead-letter: the outcome only matters to the engine's log.
        else receive(msg.data, this.replyTo(msg.reply)).catch(report)
      },
    })
    // Callers in other processes must not see "no responders" once listen() has returned.
    await this.nc.flush()
    return coreListener(this.nc, subscription)
  }

  /** A sender for a reply subject read from the wire, once it proved to be one of ours. */
  private replyTo(replySubject: string | undefined): ReplySender | RefusedReply {
    if (!replySubject) return DISCARD_REPLY
    const refused = this.subjects.refuseReplySubject(replySubject)
    if (refused !== undefined) return { refused }
    return (response) => this.nc.publish(replySubject, response.bytes)
  }

  private receiveReply(msg: Msg, idStart: number): void {
    if (msg.data.length === 0 && msg.headers?.code === 503) {
      this.host.failCall(
        msg.subject.slice(idStart),
        new NoHandlerError(`No instance serves the command on ${NATS_BRIDGE_NAME} (no responders)`),
      )
      return
    }
    this.host.receiveReply(msg.data)
  }
}
