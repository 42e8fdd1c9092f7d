import { type ConfigStore, createConfigStore, createStateStore, type StateStore } from '@conduit/core'
import type { PostgresStoreOptions } from './options.js'
import { postgresStateDriver } from './postgresStateDriver.js'

/**
 * State on PostgreSQL: one row per key in one table, conditional writes in one statement,
 * TTL on the server's clock, keys listed a page at a time.
 *
 * ```ts
 * const state = postgresStateStore({ namespace: 'users', connectionString: process.env.DATABASE_URL })
 * ```
 */
export function postgresStateStore(options: PostgresStoreOptions): StateStore {
  return createStateStore(postgresStateDriver(options))
}

/** Runtime configuration in the same table, under its own namespace. `close()` ends a pool it opened. */
export function postgresConfigStore(options: PostgresStoreOptions): ConfigStore & { close(): Promise<void> } {
  return createConfigStore(postgresStateDriver(options))
}
