import type { DeliveryMode } from '../definitions/types.js'
import type { Envelope, Receiver } from '../envelope/envelope.js'
import type { Logger } from '../observability/logging.js'
import type { BridgeCapabilities } from './capabilities.js'

/**
 * The transport port: the only thing a bridge implements. It connects, subscribes and moves
 * messages. Correlation, deadlines, envelope validation, tracing and error mapping live in the
 * protocol engine (EventBridge) once, for every bridge.
 *
 * Messages arrive as bytes (network transports, decoded and validated by the engine) or as
 * envelope objects (in-process transports, which skip encoding).
 */
export type RawMessage = Uint8Array | Envelope

export interface TransportHost {
  /** unique per bridge instance; use it for reply inboxes and per-instance queues */
  readonly instanceId: string
  readonly logger: Logger
  /** hand every response/error message addressed to this instance to the engine */
  receiveReply(raw: RawMessage): void
}

export type CommandAddress = Pick<Receiver, 'service' | 'version' | 'command'>

/** Sends the response back to the caller instance, by whatever reply route the transport used. */
export type ReplySender = (response: Envelope) => Promise<void>

export type DeliveryOutcome =
  | { readonly action: 'ack' }
  | { readonly action: 'retry'; readonly delayMs: number }
  | { readonly action: 'dead-letter'; readonly reason: string }

/**
 * Handles one command and resolves with what the transport should do with the message: `ack`
 * once it was answered (or refused as expired), `dead-letter` when it could not be read at all
 * (the reason says why; where the broker has a dead-letter place, put it there).
 */
export type CommandReceiver = (raw: RawMessage, reply: ReplySender) => Promise<DeliveryOutcome>

export interface Delivery {
  /** 1 on first delivery; transports that track redeliveries report the count */
  readonly attempt: number
}

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

export interface TransportListener {
  /** Stop taking new messages. Messages in flight finish; unacked durable ones return to the broker. */
  close(): Promise<void>
}

export interface Transport {
  readonly name: string
  readonly capabilities: BridgeCapabilities
  connect(host: TransportHost): Promise<void>
  disconnect(): Promise<void>
  isReady(): boolean
  isHealthy(): boolean
  /** Reject with NoHandlerError when the transport can tell nothing listens. */
  sendCommand(address: CommandAddress, command: Envelope): Promise<void>
  listenCommands(address: CommandAddress, receive: CommandReceiver): Promise<TransportListener>
  /** Resolves once the broker accepted the event (confirmed where the broker confirms). */
  publishEvent(event: Envelope): Promise<void>
  listenEvents(spec: EventListenerSpec, receive: EventReceiver): Promise<TransportListener>
  /** Present when capabilities.deadLetterInspection is supported. */
  readDeadLetters?(group: string): Promise<RawMessage[]>
}
