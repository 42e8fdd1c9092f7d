import type { Pool } from 'pg'
import { DEFAULT_POSTGRES_TABLE, quoteTable } from './options.js'

/**
 * The statements that create the store's table, idempotent. Keys are compared byte-wise
 * (`COLLATE "C"`): the primary key index then serves `ORDER BY key` and prefix ranges with the
 * same order whatever the database's locale. Versions come from one identity sequence, so a
 * key deleted and written again never gets a version an earlier reader holds.
 */
export function postgresStoreSchema(table: string = DEFAULT_POSTGRES_TABLE): string[] {
  const quoted = quoteTable(table)
  // an index lives in its table's schema, so its name is never qualified
  const indexName = `"${table.split('.').pop()}_expires_at"`
  return [
    `CREATE TABLE IF NOT EXISTS ${quoted} (
  namespace  text COLLATE "C" NOT NULL,
  key        text COLLATE "C" NOT NULL,
  value      text NOT NULL,
  version    bigint GENERATED ALWAYS AS IDENTITY,
  expires_at timestamptz,
  PRIMARY KEY (namespace, key)
)`,
    `CREATE INDEX IF NOT EXISTS ${indexName} ON ${quoted} (expires_at) WHERE expires_at IS NOT NULL`,
  ]
}

/**
 * Creates the table unless it exists. Two processes starting at once would both run CREATE
 * TABLE IF NOT EXISTS and one could fail on the catalog's unique index, so creators take a
 * transaction-scoped advisory lock on the table's name first; the DDL commits or rolls back
 * whole. An existing table needs no lock and no CREATE privilege.
 */
export async function ensureTable(pool: Pool, table: string): Promise<void> {
  const { rows } = await pool.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [
    quoteTable(table),
  ])
  if (rows[0]?.present) return
  const client = await pool.connect()
  let broken: Error | undefined
  try {
    await client.query('BEGIN')
    await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`conduit.store.${table}`])
    for (const statement of postgresStoreSchema(table)) await client.query(statement)
    await client.query('COMMIT')
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackFailed: Error) => {
      broken = rollbackFailed
    })
    throw error
  } finally {
    // a connection that could not even roll back is discarded rather than returned to the pool
    client.release(broken)
  }
}
