import { ConduitError } from '@conduit/core'
import type { RedisClientOptions } from '@redis/client'
import type { RedisCommandClient } from './connection.js'

export const REDIS_STORE_NAME = 'redis'
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379'

/** default policy, the same as the PostgreSQL driver's, so a service can move between them */
export const DEFAULT_MAX_KEY_BYTES = 1024
export const DEFAULT_MAX_VALUE_BYTES = 16 * 1024 * 1024
/** Redis's own ceiling for a key or a string (`proto-max-bulk-len`, 512 MB by default) */
export const REDIS_MAX_BYTES = 512 * 1024 * 1024

export interface RedisStoreOptions {
  /**
   * Keys are stored as `<namespace>:<key>`; two namespaces never see each other's keys. No ':'
   * (so one namespace can never be a prefix of another's keys).
   */
  namespace: string
  /**
   * A connected node-redis client you own (`createClient(...)` after `await client.connect()`);
   * the store never closes it. It must not set `keyPrefix` (the namespace is the prefix). Without
   * one, the store opens its own client from `url` / `clientOptions` on first use and closes it
   * in `close()`.
   */
  client?: RedisCommandClient
  /** `redis[s]://[[user][:password]@][host][:port][/db]`, default redis://127.0.0.1:6379 */
  url?: string
  /** any other node-redis client option: socket (TLS, timeouts), password, database, RESP, ... */
  clientOptions?: Omit<RedisClientOptions, 'url' | 'keyPrefix'>
  /** longest key in UTF-8 bytes, without the namespace; default 1024 */
  maxKeyBytes?: number
  /** largest value (its JSON) in UTF-8 bytes; default 16 MiB, at most 512 MiB */
  maxValueBytes?: number
}

export interface ResolvedOptions {
  readonly namespace: string
  readonly maxKeyBytes: number
  readonly maxValueBytes: number
}

function invalid(message: string): never {
  throw new ConduitError(500, 'INVALID_OPTION', `redis store: ${message}`, false)
}

function limit(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || value < 1 || value > REDIS_MAX_BYTES) {
    invalid(`${name} must be a whole number from 1 to ${REDIS_MAX_BYTES}, got ${value}`)
  }
  return value
}

export function resolveOptions(options: RedisStoreOptions): ResolvedOptions {
  const { namespace } = options
  if (typeof namespace !== 'string' || namespace === '') invalid('namespace must be a non-empty string')
  // with "a" and "a:b" both allowed, key "b:x" of "a" would be key "x" of "a:b"
  if (namespace.includes(':')) invalid(`namespace ${JSON.stringify(namespace)} must not contain ':'`)
  if (options.client && (options.url !== undefined || options.clientOptions !== undefined)) {
    invalid('pass either a client or url/clientOptions for a client the store opens, not both')
  }
  if (options.client?.options?.keyPrefix) {
    invalid(
      'the client sets keyPrefix, which SCAN does not apply; use a client without it (namespace is the prefix)',
    )
  }
  return {
    namespace,
    maxKeyBytes: limit('maxKeyBytes', options.maxKeyBytes, DEFAULT_MAX_KEY_BYTES),
    maxValueBytes: limit('maxValueBytes', options.maxValueBytes, DEFAULT_MAX_VALUE_BYTES),
  }
}
