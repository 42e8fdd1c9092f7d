import pg, { type Pool } from 'pg'
import type { PostgresStoreOptions } from './options.js'

export interface PoolHandle {
  /** the user's pool, or ours, created on first use */
  get(): Pool
  /** ends our pool; never one the user handed in */
  close(): Promise<void>
}

export function openPool(options: PostgresStoreOptions): PoolHandle {
  const given = options.pool
  if (given) return { get: () => given, close: async () => undefined }
  let own: Pool | undefined
  let closed = false
  return {
    get() {
      // a store used after close() must not quietly open a pool nobody will end
      if (closed) throw new Error('postgres store: used after close()')
      if (!own) {
        own = new pg.Pool({
          ...options.connection,
          ...(options.connectionString === undefined ? {} : { connectionString: options.connectionString }),
        })
        // An idle connection the server drops is reported here; without a listener Node would
        // exit. The pool has already discarded it, and the next query opens a fresh one.
        own.on('error', () => undefined)
      }
      return own
    },
    async close() {
      closed = true
      const closing = own
      own = undefined
      await closing?.end()
    },
  }
}
