import type { CommandAddress, EventBridge, EventBridgeOptions } from '@conduit/core'
import type { PrivateBroker } from './privateBrokers/PrivateBroker.js'

/** Something a bridge cannot be put through, with the true reason (printed, never skipped silently). */
export interface NotApplicable {
  readonly notApplicable: string
}

/** Reply addresses as a sender on the bus could set them on a command. */
export interface ReplyAddresses {
  /** an address inside the bridge's reply namespace that nobody listens on: a reply to it is harmless */
  readonly valid: string
  /** illegal addresses (wildcards, bad syntax) and addresses outside the bridge's reply namespace */
  readonly hostile: readonly string[]
}

/**
 * One isolated namespace on the broker (unique subject/queue/topic prefix, or a fresh
 * in-memory broker). Every bridge it creates is a separate connection, as if in its own
 * process, and sees the others' messages; nothing leaks to other namespaces.
 */
export interface ConformanceNamespace {
  /** a new, not yet started bridge; the suite passes logger and retry backoff */
  createBridge(options: EventBridgeOptions): EventBridge
  /**
   * Puts raw bytes where handlers of `address` listen, bypassing the engine (malformed-message
   * tests). With `replyTo`, the message carries that reply address, as the bridge's wire puts it.
   */
  injectRawCommand(address: CommandAddress, bytes: Uint8Array, replyTo?: string): Promise<void>
  /**
   * A raw client of the broker sends `bytes` as a command to `address`, with a reply address
   * it listens on itself, and resolves with the reply exactly as it arrived on the wire (for
   * checks of what a reply carries, not of what the caller rebuilds). Rejects when no reply
   * arrives within `timeoutMs`.
   */
  captureReply(address: CommandAddress, bytes: Uint8Array, timeoutMs: number): Promise<Uint8Array>
  /** what a hostile command may name as its reply address; NotApplicable when replies never go to an address read from the wire */
  readonly replyAddresses: ReplyAddresses | NotApplicable
  /**
   * Cuts `bridge`'s connection to the broker the way a network fault would (from the broker's
   * side or by destroying the socket), without restarting the shared broker. The bridge must
   * notice and reconnect by itself. NotApplicable for bridges without a connection.
   */
  readonly interruptConnection: ((bridge: EventBridge) => Promise<void>) | NotApplicable
  /** puts raw bytes where subscriptions to `eventName` listen (at-most-once and durable) */
  injectRawEvent(eventName: string, bytes: Uint8Array): Promise<void>
  /**
   * What a consumer group dead-lettered, oldest first, read with a raw broker client (the
   * bridge's readDeadLetters shows only what decodes): each record's body as a subscriber of the
   * dead-letter place receives it (the original bytes, its CloudEvent where the bridge speaks
   * CloudEvents, or a stub). NotApplicable without durable delivery.
   */
  readonly readRawDeadLetters: ((group: string) => Promise<Uint8Array[]>) | NotApplicable
  /**
   * Holds everything between `bridge` and its broker (the connection stays open) until
   * `release()`, as a paused broker would; publish confirmations cannot arrive meanwhile.
   * NotApplicable where no broker confirms a publish.
   */
  readonly stallBroker: ((bridge: EventBridge) => Promise<BrokerStall>) | NotApplicable
  /**
   * A new, not yet started bridge configured to carry at most `maxPayloadBytes` (above 1 MiB).
   * NotApplicable where the limit cannot be raised that far here (with the reason).
   */
  readonly createBridgeWithPayloadLimit:
    | ((options: EventBridgeOptions, maxPayloadBytes: number) => EventBridge)
    | NotApplicable
  /** removes what the namespace created on the broker (streams, queues, ...) */
  cleanup(): Promise<void>
}

/** A stalled path to the broker (see ConformanceNamespace.stallBroker). */
export interface BrokerStall {
  /** bytes (or requests) the bridge sent since the stall, held before the broker */
  held(): number
  /** forwards what was held and lets traffic flow again */
  release(): Promise<void>
}

/**
 * What the broker-fault group needs to kill a broker of the bridge's kind: a private instance
 * (see PrivateBroker: non-standard port, stopped by pid; the shared broker is never touched),
 * and the bridge as a module a child process can build.
 */
export interface BrokerFaultHarness {
  /** starts a private broker; the group starts one per test file and disposes it */
  startBroker(): Promise<PrivateBroker>
  /** the bridge class as a module file and export name, so a child process builds the same bridge */
  readonly bridgeModule: { readonly path: string; readonly exportName: string }
  /** JSON options (beside logger and backoff) for a bridge on `brokerUrl` in namespace `prefix` */
  bridgeOptions(brokerUrl: string, prefix: string): Record<string, unknown>
  /** options merged into bridgeOptions for a client that gives up reconnecting for good, or why none can */
  readonly givingUp: Record<string, unknown> | NotApplicable
  /** the broker's default limit on what one consumer may have queued, and where that number comes from */
  readonly defaultQueueLimit: { readonly events: number; readonly source: string }
  /** the longest an emit may wait for a broker that is gone before failing (the bridge's documented bound) */
  readonly emitWaitBoundMs: number
  /**
   * Why acknowledged durable events can be lost when the broker itself crashes, if they can: the
   * broker-kill test then still runs and publishes what was lost (docs/reliability.md) but does
   * not require 0. Absent: the bridge promises 0 lost across a broker crash, and the test holds it
   * to that.
   */
  readonly brokerCrashLoss?: NotApplicable
  /** puts the broker in its most crash-safe configuration before the broker-kill tests (restarting it if it must) */
  readonly beforeBrokerKill?: (broker: PrivateBroker) => Promise<void>
}

export interface ConformanceHarness {
  /** shown in test names, e.g. 'nats' */
  name: string
  /** private brokers for the broker-fault group, or why the bridge has no broker to kill */
  readonly brokerFaults: BrokerFaultHarness | NotApplicable
  /** called once per test */
  createNamespace(): Promise<ConformanceNamespace>
}
