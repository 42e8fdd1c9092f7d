import type { StateStore } from '@conduit/core'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { postgresStateStore, postgresStoreSchema } from '../src/index.js'
import { POSTGRES_URL, rawPool, uniqueName } from './support/postgres.js'

const admin = rawPool()
const tables: string[] = []
const stores: StateStore[] = []

function freshTable(): string {
  const table = uniqueName('conduit_test')
  tables.push(table)
  return table
}

function storeOn(table: string, extra: { createTable?: boolean } = {}): StateStore {
  const store = postgresStateStore({ namespace: 'schema', table, connectionString: POSTGRES_URL, ...extra })
  stores.push(store)
  return store
}

async function collect(keys: AsyncIterable<string>): Promise<string[]> {
  const all: string[] = []
  for await (const key of keys) all.push(key)
  return all
}

afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()))
  for (const table of tables.splice(0)) await admin.query(`DROP TABLE IF EXISTS "${table}"`)
})

afterAll(() => admin.end())

describe('the table', () => {
  it('is created on first use by several processes at once, exactly once', async () => {
    // separate stores, so separate pools and connections, as two processes would have
    for (let round = 0; round < 3; round++) {
      const table = freshTable()
      const racers = Array.from({ length: 4 }, () => storeOn(table))
      const versions = await Promise.all(racers.map((store, index) => store.set(`key:${index}`, index)))
      expect(new Set(versions).size).toBe(4)
      const { rows } = await admin.query('SELECT count(*)::int AS n FROM pg_class WHERE relname = $1', [
        table,
      ])
      expect(rows[0].n).toBe(1)
    }
  })

  it('has the documented shape: C-collated key, identity version, partial expiry index', async () => {
    const table = freshTable()
    await storeOn(table).set('a', 1)
    const { rows: columns } = await admin.query(
      `SELECT column_name, data_type, collation_name, is_identity, is_nullable FROM information_schema.columns
       WHERE table_name = $1 ORDER BY ordinal_position`,
      [table],
    )
    expect(columns.map((column) => [column.column_name, column.data_type])).toEqual([
      ['namespace', 'text'],
      ['key', 'text'],
      ['value', 'text'],
      ['version', 'bigint'],
      ['expires_at', 'timestamp with time zone'],
    ])
    expect(columns[1].collation_name).toBe('C')
    expect(columns[3].is_identity).toBe('YES')
    const { rows: indexes } = await admin.query('SELECT indexdef FROM pg_indexes WHERE tablename = $1', [
      table,
    ])
    expect(indexes.map((index) => index.indexdef).join('\n')).toMatch(/WHERE \(expires_at IS NOT NULL\)/)
  })

  it('with createTable: false, a missing table fails naming the migration; the migration makes it work', async () => {
    const table = freshTable()
    const store = storeOn(table, { createTable: false })
    await expect(store.set('a', 1)).rejects.toThrow(/docs\/stores\/postgres\.md/)
    for (const statement of postgresStoreSchema(table)) await admin.query(statement)
    await store.set('a', 1)
    expect(await store.get('a')).toBe(1)
  })

  it('lists prefixes byte-wise even when a hand-written migration gave the key a locale collation', async () => {
    const { rows } = await admin.query(`SELECT 1 FROM pg_collation WHERE collname = 'und-x-icu'`)
    expect(rows.length, 'this server needs ICU (und-x-icu) for this test').toBe(1)
    const table = freshTable()
    // under ICU 'A1' sorts between 'a' and 'b', so a range over the column's own collation would list it
    await admin.query(`CREATE TABLE "${table}" (namespace text NOT NULL, key text COLLATE "und-x-icu" NOT NULL,
      value text NOT NULL, version bigint GENERATED ALWAYS AS IDENTITY, expires_at timestamptz,
      PRIMARY KEY (namespace, key))`)
    const store = storeOn(table, { createTable: false })
    const keys = ['a1', 'A1', 'ab', 'aB', 'B', 'b', 'a', '_a', 'a-b', 'a b']
    await store.setMany(Object.fromEntries(keys.map((key) => [key, key])))
    expect((await collect(store.keys('a', { pageSize: 2 }))).sort()).toEqual([
      'a',
      'a b',
      'a-b',
      'a1',
      'aB',
      'ab',
    ])
    expect((await collect(store.keys('', { pageSize: 3 }))).sort()).toEqual([...keys].sort())
  })

  it('refuses a table name that is not a plain identifier', () => {
    for (const table of ['conduit-state', 'Conduit', 'a.b.c', 'x"; DROP TABLE y; --', '', 'a'.repeat(49)]) {
      expect(
        () => postgresStateStore({ namespace: 'n', table, connectionString: POSTGRES_URL }),
        table,
      ).toThrow(/table/)
    }
    expect(postgresStoreSchema('app.conduit_state')[0]).toContain('"app"."conduit_state"')
  })
})
