import type { Capability } from '../transport/capabilities.js'

/**
 * The port a state or config store driver implements (Redis, PostgreSQL, NATS KV, Dapr, memory).
 * Like a transport, a driver moves strings: the core encodes values to JSON, checks keys and
 * sizes, refuses options the driver cannot honour, turns conflicts into ConflictError and runs
 * `update` on top of conditional writes. A driver never parses a value.
 */

/** What a read returns: the encoded value and the version a conditional write must name. */
export interface StoredEntry {
  readonly value: string
  /** opaque; changes on every write of the key (a counter, a revision, an ETag) */
  readonly version: string
}

export interface StoreWriteOptions {
  /**
   * Write only if the key is still at this version (from a read); `null`: only if the key does
   * not exist. Absent: write unconditionally.
   */
  readonly ifVersion?: string | null
  /** the key expires this many milliseconds after the write (whole milliseconds, > 0) */
  readonly ttlMs?: number
}

export interface StoreDeleteOptions {
  /** delete only if the key is still at this version; a missing key is then a conflict */
  readonly ifVersion?: string
}

/** A write either took effect (with the key's new version) or lost to another writer. */
export type WriteOutcome = { readonly ok: true; readonly version: string } | { readonly ok: false }

export interface StoreCapabilities {
  /** `ifVersion` on set and delete (and so `update`) */
  readonly conditionalWrites: Capability
  /** `ttlMs` on set */
  readonly ttl: Capability
  /** longest key the driver takes, in UTF-8 bytes */
  readonly maxKeyBytes: number
  /** largest encoded (JSON) value the driver takes, in UTF-8 bytes */
  readonly maxValueBytes: number
}

export interface StoreDriverEntry {
  readonly key: string
  readonly value: string
  readonly ttlMs?: number
}

export interface StateDriver {
  /** short name for errors and spans: `redis`, `postgres`, `nats-kv`, `dapr`, `memory` */
  readonly name: string
  readonly capabilities: StoreCapabilities
  get(key: string): Promise<StoredEntry | undefined>
  /** Options are already checked against `capabilities`; an unsupported one never arrives. */
  set(key: string, value: string, options: StoreWriteOptions): Promise<WriteOutcome>
  /** Resolves false when `ifVersion` did not hold; deleting a missing key unconditionally is fine. */
  delete(key: string, options: StoreDeleteOptions): Promise<boolean>
  /** Optional: one round trip for many keys, in the order asked. The core falls back to `get`. */
  getMany?(keys: readonly string[]): Promise<(StoredEntry | undefined)[]>
  /** Optional: many unconditional writes in one round trip. The core falls back to `set`. */
  setMany?(entries: readonly StoreDriverEntry[]): Promise<void>
  /**
   * The keys starting with `prefix`, a page (about `pageSize` keys) at a time, so a million keys
   * never sit in one array. Order is the driver's; a key written during the listing may or may
   * not appear, and a key present throughout appears at least once: exactly once unless the
   * driver's page says otherwise (Redis SCAN can repeat a key while the server shrinks its table).
   */
  keys(prefix: string, pageSize: number): AsyncIterable<readonly string[]>
  /** Releases what the driver opened (connections it owns; never one it was given). */
  close?(): Promise<void>
}
