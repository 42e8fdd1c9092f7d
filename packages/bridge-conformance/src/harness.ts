import type { CommandAddress, EventBridge, EventBridgeOptions } from '@conduit/core'

/**
 * One isolated namespace on the broker (unique subject/queue/topic prefix, or a fresh
 * in-memory broker). Every bridge it creates is a separate connection, as if in its own
 * process, and sees the others' messages; nothing leaks to other namespaces.
 */
export interface ConformanceNamespace {
  /** a new, not yet started bridge; the suite passes logger and retry backoff */
  createBridge(options: EventBridgeOptions): EventBridge
  /** puts raw bytes where handlers of `address` listen, bypassing the engine (malformed-message tests) */
  injectRawCommand(address: CommandAddress, bytes: Uint8Array): Promise<void>
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
