import type { CommandAddress, EventBridge, EventBridgeOptions } from '@conduit/core'

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
  /** removes what the namespace created on the broker (streams, queues, ...) */
  cleanup(): Promise<void>
}

export interface ConformanceHarness {
  /** shown in test names, e.g. 'nats' */
  name: string
  /** called once per test */
  createNamespace(): Promise<ConformanceNamespace>
}
