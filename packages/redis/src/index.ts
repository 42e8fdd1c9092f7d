import { type ConfigStore, createConfigStore, createStateStore, type StateStore } from '@conduit/core'
import type { RedisStoreOptions } from './options.js'
import { redisStateDriver } from './redisStateDriver.js'

export type { RedisCommandClient, RedisTransaction } from './connection.js'
export {
  DEFAULT_MAX_KEY_BYTES,
  DEFAULT_MAX_VALUE_BYTES,
  DEFAULT_REDIS_URL,
  REDIS_MAX_BYTES,
  REDIS_STORE_NAME,
  type RedisStoreOptions,
} from './options.js'
export { type RedisStateDriver, redisStateDriver } from './redisStateDriver.js'

/** Service state in Redis: `redisStateStore({ namespace: 'users', url: process.env.REDIS_URL })`. */
export function redisStateStore(options: RedisStoreOptions): StateStore {
  return createStateStore(redisStateDriver(options))
}

/** Configuration values in Redis, with the same keys, namespaces and JSON values as state. */
export function redisConfigStore(options: RedisStoreOptions): ConfigStore & { close(): Promise<void> } {
  return createConfigStore(redisStateDriver(options))
}
