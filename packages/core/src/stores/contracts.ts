import type { StoreCapabilities, StoreDeleteOptions, StoreWriteOptions } from './driver.js'

/** A value read together with the version a conditional write names. */
export interface StateEntry<T> {
  readonly value: T
  readonly version: string
}

export interface UpdateOptions {
  /** tries before giving up with a ConflictError; default 100 */
  readonly maxAttempts?: number
  /** TTL of the written value, as in `set` */
  readonly ttlMs?: number
}

/**
 * Key/value state owned by a service (users, carts, ...). Values are JSON: plain objects,
 * arrays, strings, finite numbers, booleans and null; anything else is refused with a clear
 * error rather than silently changed (a Date would come back as a string, NaN as null).
 * Keys are non-empty strings up to the driver's `capabilities.maxKeyBytes`.
 */
export interface StateStore {
  readonly name: string
  readonly capabilities: StoreCapabilities
  get<T = unknown>(key: string): Promise<T | undefined>
  getEntry<T = unknown>(key: string): Promise<StateEntry<T> | undefined>
  /**
   * Writes `value` and resolves with its new version. With `ifVersion` the write is
   * conditional and fails with ConflictError (409) when another writer came first.
   */
  set(key: string, value: unknown, options?: StoreWriteOptions): Promise<string>
  /** Removes the key; with `ifVersion`, a ConflictError when it changed or is gone. */
  delete(key: string, options?: StoreDeleteOptions): Promise<void>
  /**
   * Reads, applies `change`, writes conditionally, and retries from a fresh read when another
   * writer came first, up to `maxAttempts`. `change` may run more than once: keep it pure.
   * Resolves with the value written.
   */
  update<T>(
    key: string,
    change: (current: T | undefined) => T | Promise<T>,
    options?: UpdateOptions,
  ): Promise<T>
  /** Values of `keys`, in order (undefined where missing); one round trip where the driver can. */
  getMany<T = unknown>(keys: readonly string[]): Promise<(T | undefined)[]>
  /** Unconditional writes; every value is checked first, so a bad one writes nothing. */
  setMany(entries: Readonly<Record<string, unknown>>, options?: { readonly ttlMs?: number }): Promise<void>
  /** Keys starting with `prefix` (every key without one), streamed a page at a time. */
  keys(prefix?: string, options?: { readonly pageSize?: number }): AsyncIterable<string>
  /** Releases connections the store opened itself. */
  close(): Promise<void>
}

/** Runtime configuration values (feature flags, limits). Read-mostly. */
export interface ConfigStore {
  readonly name: string
  get<T = unknown>(key: string): Promise<T | undefined>
  set(key: string, value: unknown): Promise<void>
}

/** Secrets are read-only for handlers. */
export interface SecretStore {
  readonly name: string
  get(key: string): Promise<string | undefined>
}

export interface Stores {
  state: StateStore
  config: ConfigStore
  secret: SecretStore
}
