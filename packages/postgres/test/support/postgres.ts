import { randomUUID } from 'node:crypto'
import pg from 'pg'

/** The server the tests use: CONDUIT_POSTGRES_URL, or the local one (trust auth, database `test`). */
export const POSTGRES_URL = process.env.CONDUIT_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

/** A name no other run used, valid as a namespace or a table name. */
export function uniqueName(label: string): string {
  return `${label}_${randomUUID().replaceAll('-', '').slice(0, 12)}`
}

export function rawPool(): pg.Pool {
  const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 4 })
  pool.on('error', () => undefined)
  return pool
}

/** Polls `check` until it holds, failing after `timeoutMs`: a bounded wait, not a fixed sleep. */
export async function until(
  check: () => Promise<boolean>,
  timeoutMs = 5_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
