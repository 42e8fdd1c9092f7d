import type { StateStore } from '@conduit/core'
import { postgresStateStore } from '../../src/index.js'
import { POSTGRES_URL } from './postgres.js'

/**
 * The conformance suite's factory; its race test imports this module in child processes
 * (`node --import tsx`), so it reads the server from the environment and never uses vitest.
 * Every store opens its own small pool on the default table and ends it in `close()`.
 */
export async function createStore(namespace: string): Promise<StateStore> {
  return postgresStateStore({ namespace, connectionString: POSTGRES_URL, connection: { max: 4 } })
}
