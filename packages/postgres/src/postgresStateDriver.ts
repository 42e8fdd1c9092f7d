import { ValidationError } from '@conduit/core'
import {
  type StateDriver,
  type StoreDeleteOptions,
  type StoreDriverEntry,
  type StoredEntry,
  type StoreWriteOptions,
  supported,
  type WriteOutcome,
} from '@conduit/core/transport'
import type { Pool } from 'pg'
import { prefixUpperBound, storableInText } from './keyRange.js'
import { POSTGRES_STORE_NAME, type PostgresStoreOptions, resolveOptions } from './options.js'
import { openPool } from './pool.js'
import { ensureTable } from './schema.js'

/** a row counts only while it has not expired; `now()` is the server's clock, the same for every client */
const LIVE = '(expires_at IS NULL OR expires_at > now())'
/** a TTL parameter in milliseconds (NULL: no expiry) as the row's expiry */
const expiry = (parameter: string) => `now() + ${parameter}::float8 * interval '1 millisecond'`
/** versions we hand out: identity values, decimal, no leading zero, within bigint */
const ISSUED_VERSION = /^[1-9][0-9]{0,17}$/
const SWEEP_BATCH = 1000

export interface PostgresStateDriver extends StateDriver {
  /** the pool the driver queries (yours, or the one it opened): the raw client, one way for every driver */
  readonly pool: Pool
}

function statements(table: string) {
  const upsert = `INSERT INTO ${table} AS stored (namespace, key, value, expires_at)
    VALUES ($1, $2, $3, ${expiry('$4')})
    ON CONFLICT (namespace, key) DO UPDATE
    SET value = EXCLUDED.value, version = DEFAULT, expires_at = EXCLUDED.expires_at`
  return {
    get: `SELECT value, version::text AS version FROM ${table} WHERE namespace = $1 AND key = $2 AND ${LIVE}`,
    getMany: `SELECT key, value, version::text AS version FROM ${table}
      WHERE namespace = $1 AND key = ANY($2::text[]) AND ${LIVE}`,
    set: `${upsert} RETURNING version::text AS version`,
    // the conflict path may only take over a row that has expired
    insertIfAbsent: `${upsert} WHERE stored.expires_at <= now() RETURNING version::text AS version`,
    // UPDATE, not an upsert: a key that is gone must not come back
    replaceIfVersion: `UPDATE ${table} SET value = $3, version = DEFAULT, expires_at = ${expiry('$4')}
      WHERE namespace = $1 AND key = $2 AND version = $5 AND ${LIVE} RETURNING version::text AS version`,
    delete: `DELETE FROM ${table} WHERE namespace = $1 AND key = $2`,
    deleteIfVersion: `DELETE FROM ${table} WHERE namespace = $1 AND key = $2 AND version = $3 AND ${LIVE}`,
    // Rows go in key order, so two overlapping batches lock rows in the same order and cannot deadlock.
    setMany: `INSERT INTO ${table} (namespace, key, value, expires_at)
      SELECT $1, entry.key, entry.value, ${expiry('entry.ttl')}
      FROM unnest($2::text[], $3::text[], $4::float8[]) AS entry(key, value, ttl)
      ORDER BY entry.key COLLATE "C"
      ON CONFLICT (namespace, key) DO UPDATE
      SET value = EXCLUDED.value, version = DEFAULT, expires_at = EXCLUDED.expires_at`,
    // Expired rows are dead to every namespace, so the sweep is table-wide: rows a namespace no
    // longer writes to go too. The outer condition is checked again on a row a concurrent write
    // changed meanwhile, so a key written again with a new expiry is not swept.
    sweep: `DELETE FROM ${table} WHERE expires_at <= now() AND (namespace, key) IN (
      SELECT namespace, key FROM ${table} WHERE expires_at <= now() LIMIT ${SWEEP_BATCH})`,
  }
}

/** Builds the SELECT for one page of keys: after the cursor (or from the prefix), below the prefix's bound. */
function pageQuery(table: string, prefix: string, after: string | undefined, pageSize: number) {
  const values: unknown[] = []
  // $1 is the namespace, which query() supplies
  const parameter = (value: unknown) => {
    values.push(value)
    return `$${values.length + 1}`
  }
  // COLLATE "C" keeps the order byte-wise even on a table whose migration left it out
  const conditions = ['namespace = $1', LIVE]
  if (after !== undefined) conditions.push(`key COLLATE "C" > ${parameter(after)}`)
  else if (prefix !== '') conditions.push(`key COLLATE "C" >= ${parameter(prefix)}`)
  const bound = prefix === '' ? undefined : prefixUpperBound(prefix)
  if (bound !== undefined) conditions.push(`key COLLATE "C" < ${parameter(bound)}`)
  const text = `SELECT key FROM ${table} WHERE ${conditions.join(' AND ')}
    ORDER BY key COLLATE "C" LIMIT ${parameter(pageSize)}`
  return { text, values }
}

function refuseKey(key: string): never {
  throw new ValidationError(
    'state',
    [
      {
        path: [],
        message: 'PostgreSQL text cannot hold a NUL character or a lone surrogate',
        code: 'invalid_key',
      },
    ],
    `${POSTGRES_STORE_NAME} key ${JSON.stringify(key.slice(0, 80))}`,
  )
}

const checked = (key: string) => (storableInText(key) ? key : refuseKey(key))

/** The StateDriver over one PostgreSQL table; `postgresStateStore` wraps it for handlers. */
export function postgresStateDriver(options: PostgresStoreOptions): PostgresStateDriver {
  const resolved = resolveOptions(options)
  const { namespace, table } = resolved
  const sql = statements(table)
  const pool = openPool(options)
  let ready: Promise<void> | undefined
  let lastSweep = 0
  let sweeping: Promise<void> | undefined

  async function execute<Row extends object>(
    text: string,
    values: unknown[],
  ): Promise<{ rows: Row[]; rowCount: number }> {
    if (resolved.createTable) {
      ready ??= ensureTable(pool.get(), resolved.tableName).catch((error: unknown) => {
        ready = undefined // the next call tries again (the server may have been down)
        throw error
      })
      await ready
    }
    try {
      const result = await pool.get().query<Row>(text, values)
      return { rows: result.rows, rowCount: result.rowCount ?? 0 }
    } catch (error) {
      throw explained(error, resolved.tableName)
    }
  }

  /** every statement but the sweep is about this namespace: $1 */
  const query = <Row extends object>(text: string, values: unknown[]) =>
    execute<Row>(text, [namespace, ...values])

  // Expired rows are invisible at once; deleting them is housekeeping that rides on writes.
  function sweepNowAndThen(): void {
    if (resolved.sweepIntervalMs === 0 || sweeping || Date.now() - lastSweep < resolved.sweepIntervalMs)
      return
    lastSweep = Date.now()
    sweeping = execute(sql.sweep, [])
      .then(
        () => undefined,
        () => undefined, // best effort: the next sweep or the next write of the key removes it
      )
      .finally(() => {
        sweeping = undefined
      })
  }

  async function write(text: string, values: unknown[]): Promise<WriteOutcome> {
    const { rows } = await query<{ version: string }>(text, values)
    sweepNowAndThen()
    const row = rows[0]
    return row ? { ok: true, version: row.version } : { ok: false }
  }

  return {
    name: POSTGRES_STORE_NAME,
    capabilities: {
      conditionalWrites: supported,
      ttl: supported,
      maxKeyBytes: resolved.maxKeyBytes,
      maxValueBytes: resolved.maxValueBytes,
    },
    get pool() {
      return pool.get()
    },

    async get(key: string): Promise<StoredEntry | undefined> {
      const { rows } = await query<StoredEntry>(sql.get, [checked(key)])
      return rows[0]
    },

    async set(key: string, value: string, { ifVersion, ttlMs }: StoreWriteOptions): Promise<WriteOutcome> {
      const ttl = ttlMs ?? null
      if (ifVersion === undefined) return write(sql.set, [checked(key), value, ttl])
      if (ifVersion === null) return write(sql.insertIfAbsent, [checked(key), value, ttl])
      // a version this driver never issued cannot match (and would not cast to bigint)
      if (!ISSUED_VERSION.test(ifVersion)) return { ok: false }
      return write(sql.replaceIfVersion, [checked(key), value, ttl, ifVersion])
    },

    async delete(key: string, { ifVersion }: StoreDeleteOptions): Promise<boolean> {
      if (ifVersion === undefined) {
        await query(sql.delete, [checked(key)])
        return true
      }
      if (!ISSUED_VERSION.test(ifVersion)) return false
      const { rowCount } = await query(sql.deleteIfVersion, [checked(key), ifVersion])
      return rowCount === 1
    },

    async getMany(keys: readonly string[]): Promise<(StoredEntry | undefined)[]> {
      if (keys.length === 0) return []
      const { rows } = await query<StoredEntry & { key: string }>(sql.getMany, [keys.map(checked)])
      const found = new Map(rows.map((row) => [row.key, { value: row.value, version: row.version }]))
      return keys.map((key) => found.get(key))
    },

    async setMany(entries: readonly StoreDriverEntry[]): Promise<void> {
      // one statement cannot update a row twice: the last entry for a key wins, as sequential sets would
      const latest = new Map(entries.map((entry) => [checked(entry.key), entry]))
      if (latest.size === 0) return
      const batch = [...latest.values()]
      await query(sql.setMany, [
        batch.map((entry) => entry.key),
        batch.map((entry) => entry.value),
        batch.map((entry) => entry.ttlMs ?? null),
      ])
      sweepNowAndThen()
    },

    async *keys(prefix: string, pageSize: number): AsyncGenerator<readonly string[]> {
      if (!storableInText(prefix)) return // no stored key can start with it
      let after: string | undefined
      for (;;) {
        const page = pageQuery(table, prefix, after, pageSize)
        const { rows } = await query<{ key: string }>(page.text, page.values)
        const keys = rows.map((row) => row.key)
        if (keys.length > 0) yield keys
        if (keys.length < pageSize) return
        after = keys[keys.length - 1]
      }
    },

    async close(): Promise<void> {
      await sweeping
      await pool.close()
    },
  }
}

/** A missing table is the one error a user fixes by reading our docs, so it says where. */
function explained(error: unknown, table: string): unknown {
  if (error instanceof Error && (error as { code?: string }).code === '42P01') {
    error.message = `${error.message}: create the ${POSTGRES_STORE_NAME} store's table ${table} with the migration in docs/stores/postgres.md (postgresStoreSchema()), or leave createTable on`
  }
  return error
}
