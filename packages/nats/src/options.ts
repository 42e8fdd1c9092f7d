import type { EventBridgeOptions } from '@conduit/core'
import type { NodeConnectionOptions } from '@nats-io/transport-node'

export const NATS_BRIDGE_NAME = 'nats'
export const DEFAULT_NATS_SERVERS = 'nats://127.0.0.1:4222'
export const DEFAULT_NATS_PREFIX = 'conduit'

/** How durable (JetStream) subscriptions are stored and consumed. */
export interface NatsDurableOptions {
  /**
   * How long the server waits for an ack before redelivering to another instance (default 10 s).
   * Handlers may run longer: the bridge tells the server they are still working.
   */
  ackWaitMs?: number
  /** unacknowledged messages per subscription across all instances (default 1000) */
  maxAckPending?: number
  /** stream storage (default 'file'; 'memory' loses events on a server restart) */
  storage?: 'file' | 'memory'
  /** stream replicas in a cluster (default 1) */
  replicas?: number
  /** how long dead letters are kept (default: until deleted) */
  deadLetterMaxAgeMs?: number
  /**
   * An `everyInstance` durable subscription belongs to one instance; if that instance dies
   * without stopping, the server removes its consumer after this long (default 5 min).
   */
  instanceConsumerInactiveMs?: number
  /** how long an emit waits for JetStream to confirm a durable event (default 5 s) */
  publishTimeoutMs?: number
}

export interface NatsBridgeOptions extends EventBridgeOptions {
  /** NATS server URL(s); default 'nats://127.0.0.1:4222' */
  servers?: string | string[]
  /**
   * Namespace for every subject, stream and consumer this bridge uses (default 'conduit').
   * Bridges only see each other when they share a prefix: use one per app or per test.
   */
  prefix?: string
  /** further nats.js connection options: credentials, TLS, name, reconnect tuning */
  connection?: Omit<NodeConnectionOptions, 'servers'>
  durable?: NatsDurableOptions
}

export interface ResolvedDurableOptions {
  ackWaitMs: number
  maxAckPending: number
  storage: 'file' | 'memory'
  replicas: number
  deadLetterMaxAgeMs: number
  instanceConsumerInactiveMs: number
  publishTimeoutMs: number
}

export function resolveDurableOptions(options: NatsDurableOptions = {}): ResolvedDurableOptions {
  return {
    ackWaitMs: options.ackWaitMs ?? 10_000,
    maxAckPending: options.maxAckPending ?? 1000,
    storage: options.storage ?? 'file',
    replicas: options.replicas ?? 1,
    deadLetterMaxAgeMs: options.deadLetterMaxAgeMs ?? 0,
    instanceConsumerInactiveMs: options.instanceConsumerInactiveMs ?? 5 * 60_000,
    publishTimeoutMs: options.publishTimeoutMs ?? 5000,
  }
}

export function connectionOptions(options: NatsBridgeOptions): NodeConnectionOptions {
  return {
    // A server-side bridge should outlive any broker outage: retry forever unless told otherwise.
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1000,
    // nats.js otherwise builds two Error objects (stack traces included) for every request, so
    // every JetStream publish, just in case it fails: a quarter of the CPU of a durable emit.
    // Errors still say what failed; they only lack the stack of the caller that started it.
    noAsyncTraces: true,
    ...options.connection,
    servers: options.servers ?? DEFAULT_NATS_SERVERS,
  }
}
