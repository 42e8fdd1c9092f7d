import type { DeliveryMode } from '../definitions/types.js'
import type { Envelope, Receiver } from '../envelope/envelope.js'
import type { ConduitError } from '../errors/errors.js'
import type { Logger } from '../observability/logging.js'
import type { BridgeCapabilities } from './capabilities.js'

/**
 * The transport port: the only thing a bridge implements. It connects, subscribes and moves
 * bytes. Correlation, deadlines, encoding and decoding, draining, local routing and the poison
 * policy live in the protocol engine (EventBridge) once, for every bridge.
 *
 * Messages arrive as bytes (network transports; the engine decodes and validates them) or as
 * envelope objects (in-process transports, `carries: 'envelopes'`, which skip encoding).
 */
export type RawMessage = Uint8Array | Envelope

/**
 * One message the engine hands a transport to send. `bytes` is the envelope encoded once by the
 * engine and already checked against `capabilities.maxPayloadBytes`; a transport never encodes.
 */
export interface OutboundMessage {
  /** read it for routing only (id, eventName, deadline, correlationId); never change it */
  readonly envelope: Readonly<Envelope>
  readonly bytes: Uint8Array
  /**
   * The same message as a structured-mode CloudEvents 1.0 JSON document (the documented mapping),
   * encoded once and size-checked, for transports whose wire form is CloudEvents
   * (`carries: 'cloudevents'`). Computed only when read.
   */
  readonly cloudEventBytes: Uint8Array
}

export interface TransportHost {
  /** unique per bridge instance; use it for reply inboxes and per-instance queues */
  readonly instanceId: string
  readonly logger: Logger
  /** hand every response/error message addressed to this instance to the engine; true when it settled a waiting call */
  receiveReply(raw: RawMessage): boolean
  /**
   * A late failure of one sent command, known only after `sendCommand` resolved (NATS "no
   * responders", an AMQP `basic.return`, a Dapr 404). `commandId` is the envelope id.
   */
  failCall(commandId: string, error: ConduitError): void
  /**
   * Replies to calls sent on this connection can no longer arrive (the connection dropped).
   * The engine fails every waiting call at once with a retryable 503 saying the outcome is unknown.
   */
  repliesLost(reason: string): void
  /**
   * For brokers that confirm a publish with a message the transport receives itself (a JetStream
   * publish ack): the engine keeps the waiting table and the timeout, as it does for replies, so
   * no bridge keeps one. Use the envelope id as `token`; settle with `settleConfirmation`.
   */
  awaitConfirmation(token: string, timeoutMs: number, onTimeout: () => ConduitError): Promise<void>
  /** The broker confirmed `token` (no error) or refused it; unknown or late tokens are ignored. */
  settleConfirmation(token: string, error?: ConduitError): void
  /** A failure the transport caught (an ack, nack, dead-letter or reply it could not do): logged and counted. */
  reportFailure(action: string, error: unknown, context?: Record<string, unknown>): void
}

export type CommandAddress = Pick<Receiver, 'service' | 'version' | 'command'>

/** Sends a response back to the calling instance, by whatever reply route the transport used. */
export type ReplySender = (response: OutboundMessage) => Promise<void> | void

/**
 * What a transport hands instead of a ReplySender when the reply address it took from the wire
 * is unusable (illegal, or outside this bridge's reply namespace). The engine then drops the
 * command with a log, without running it.
 */
export interface RefusedReply {
  readonly refused: string
}

/** The record a transport stores in its dead-letter place; the engine made sure it fits the broker. */
export interface DeadLetterRecord {
  /** why it was dead-lettered, bounded in length */
  readonly reason: string
  /** the original message, or when that would not fit, a small JSON stub naming its id and size */
  readonly message: RawMessage
  /** true when `message` is the stub, not the original */
  readonly stub: boolean
}

export type DeliveryOutcome =
  | { readonly action: 'ack' }
  | { readonly action: 'retry'; readonly delayMs: number }
  | { readonly action: 'dead-letter'; readonly reason: string; readonly record: DeadLetterRecord }

/**
 * Handles one command and resolves with what the transport should do with the message: `ack`
 * once it was answered (or refused), `dead-letter` when it could not be read at all. The promise
 * never rejects: every failure inside (a reply that could not be sent included) is handled,
 * logged and counted by the engine.
 */
export type CommandReceiver = (raw: RawMessage, reply: ReplySender | RefusedReply) => Promise<DeliveryOutcome>

export interface Delivery {
  /** 1 on first delivery; transports that track redeliveries report the count */
  readonly attempt: number
}

/** Handles one event; like CommandReceiver, the promise never rejects. */
export type EventReceiver = (raw: RawMessage, delivery: Delivery) => Promise<DeliveryOutcome>

export interface EventListenerSpec {
  /** consumer group: each event goes to one listener per group (every listener if everyInstance) */
  readonly group: string
  /** event name or pattern: `*` one segment, final `#` one or more; the engine re-checks matches */
  readonly eventPattern: string
  readonly delivery: DeliveryMode
  readonly everyInstance: boolean
  readonly maxAttempts: number
}

/**
 * One subscription on the broker. The engine stops it in two steps so that the drain is written
 * once: `pause()` stops taking new messages, the engine waits (bounded) for the ones in flight to
 * be handled and settled, then `close()` releases it. Unacked durable messages return to the broker.
 */
export interface TransportListener {
  pause(): Promise<void>
  close(): Promise<void>
}

/** What a message is addressed to: a command (by address) or an event (by name). */
export type DestinationTarget =
  | { readonly kind: 'command'; readonly address: CommandAddress }
  | { readonly kind: 'event'; readonly eventName: string }

export interface Transport {
  readonly name: string
  readonly capabilities: BridgeCapabilities
  /**
   * What the transport reads of an OutboundMessage, so the engine encodes (and size-checks) that
   * once, before anything waits: `bytes` (default); `envelopes` for in-process transports, which
   * skip encoding; `cloudevents` for transports that publish events as CloudEvents (commands
   * still travel as `bytes`).
   */
  readonly carries?: 'bytes' | 'envelopes' | 'cloudevents'
  /** The broker this transport talks to, for `server.address` / `server.port` on spans and metrics. */
  readonly server?: { readonly address: string; readonly port?: number }
  /**
   * The broker's own name for where a command or event goes (a subject, an exchange and routing
   * key, a topic), for `messaging.destination.name`. Absent: the logical name is used.
   */
  destinationName?(target: DestinationTarget): string
  connect(host: TransportHost): Promise<void>
  disconnect(): Promise<void>
  isReady(): boolean
  isHealthy(): boolean
  /**
   * Resolves once the broker has the command, not when it is answered; rejects when it could not
   * be handed over (NoHandlerError when the transport can tell at once that nothing listens).
   * Failures known later go to `host.failCall`.
   */
  sendCommand(address: CommandAddress, command: OutboundMessage): Promise<void>
  /** One listener per address per bridge instance; the engine routes among local services. */
  listenCommands(address: CommandAddress, receive: CommandReceiver): Promise<TransportListener>
  /**
   * In-process transports only: the receiver every command sent to `address` would reach now,
   * when it is the only listener there and one this transport was given by `listenCommands`;
   * else undefined. The engine then runs its own handler directly, with no reply envelope.
   */
  soleOwnReceiver?(address: CommandAddress): CommandReceiver | undefined
  /** Resolves once the broker accepted the event (confirmed where the broker confirms). */
  publishEvent(event: OutboundMessage): Promise<void>
  /** One listener per group per bridge instance; the engine routes among local subscriptions. */
  listenEvents(spec: EventListenerSpec, receive: EventReceiver): Promise<TransportListener>
  /** Present when capabilities.deadLetterInspection is supported. */
  readDeadLetters?(group: string): Promise<RawMessage[]>
}
