import type { StateStore } from '@conduit/core'
import { postgresStateStore } from '@conduit/postgres'
import { redisStateStore } from '@conduit/redis'

/**
 * Where the user service keeps its users, from `CONDUIT_USER_STORE`: `memory` (the default, one
 * process), `redis` (`REDIS_URL`) or `postgres` (`DATABASE_URL`). Undefined means the instance's
 * own in-memory store.
 */
export function userStateFromEnv(env: NodeJS.ProcessEnv = process.env): StateStore | undefined {
  const namespace = env.CONDUIT_USER_NAMESPACE ?? 'example-users'
  switch (env.CONDUIT_USER_STORE ?? 'memory') {
    case 'memory':
      return undefined
    case 'redis':
      return redisStateStore({ namespace, url: env.REDIS_URL ?? 'redis://127.0.0.1:6379' })
    case 'postgres':
      return postgresStateStore({
        namespace,
        connectionString: env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
      })
    default:
      throw new Error(
        `CONDUIT_USER_STORE must be memory, redis or postgres, got ${JSON.stringify(env.CONDUIT_USER_STORE)}`,
      )
  }
}
