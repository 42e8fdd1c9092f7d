import type { StateStore } from '@conduit/core'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import {
  DEFAULT_POSTGRES_TABLE,
  type PostgresStoreOptions,
  postgresConfigStore,
  postgresStateDriver,
  postgresStateStore,
} from '../src/index.js'
import { POSTGRES_URL, rawPool, uniqueName, until } from './support/postgres.js'

const admin = rawPool()
const namespaces: string[] = []
const closers: (() => Promise<void>)[] = []

function open(options: Partial<PostgresStoreOptions> = {}): StateStore {
  const namespace = uniqueName('pgtest')
  namespaces.push(namespace)
  const store = postgresStateStore({ namespace, connectionString: POSTGRES_URL, ...options })
  closers.push(() => store.close())
  return store
}

/** rows physically in the table for the store's namespace, expired or not */
async function rowsOf(namespace: string): Promise<string[]> {
  const { rows } = await admin.query(
    `SELECT key FROM ${DEFAULT_POSTGRES_TABLE} WHERE namespace = $1 ORDER BY key`,
    [namespace],
  )
  return rows.map((row) => row.key)
}

async function collect(keys: AsyncIterable<string>): Promise<string[]> {
  const all: string[] = []
  for await (const key of keys) all.push(key)
  return all
}

afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()))
  await admin.query(`DELETE FROM ${DEFAULT_POSTGRES_TABLE} WHERE namespace = ANY($1)`, [namespaces.splice(0)])
})

afterAll(() => admin.end())

describe('versions', () => {
  it('a version is never handed out twice, even to a key deleted and written again', async () => {
    const store = open()
    const first = await store.set('k', 1)
    await store.delete('k')
    const second = await store.set('k', 1)
    expect(second).not.toBe(first)
    await expect(store.set('k', 2, { ifVersion: first })).rejects.toMatchObject({
      status: 409,
      code: 'CONFLICT',
    })
    await expect(store.delete('k', { ifVersion: first })).rejects.toMatchObject({ status: 409 })
    expect(await store.get('k')).toBe(1)
  })

  it('a version string this driver never issued is a conflict, not an SQL error', async () => {
    const store = open()
    await store.set('k', 1)
    for (const foreign of ['abc', '', '01', '99999999999999999999999', '1; DROP TABLE x']) {
      await expect(store.set('k', 2, { ifVersion: foreign }), foreign).rejects.toMatchObject({ status: 409 })
      await expect(store.delete('k', { ifVersion: foreign }), foreign).rejects.toMatchObject({ status: 409 })
    }
    expect(await store.get('k')).toBe(1)
  })
})

describe('expiry', () => {
  it('an expired key is invisible to reads, listings and conditional checks, and may be created again', async () => {
    const store = open({ sweepIntervalMs: 0 })
    const namespace = namespaces.at(-1) ?? ''
    const version = await store.set('session', { user: 1 }, { ttlMs: 150 })
    await store.set('stays', true)
    expect(await collect(store.keys())).toContain('session')
    await until(async () => (await store.get('session')) === undefined, 5_000, 'expiry')
    expect(await store.getEntry('session')).toBeUndefined()
    expect(await store.getMany(['session', 'stays'])).toEqual([undefined, true])
    expect(await collect(store.keys())).toEqual(['stays'])
    await expect(store.set('session', 2, { ifVersion: version })).rejects.toMatchObject({ status: 409 })
    await expect(store.delete('session', { ifVersion: version })).rejects.toMatchObject({ status: 409 })
    // with the sweep off the row is still there, only invisible
    expect(await rowsOf(namespace)).toEqual(['session', 'stays'])
    const again = await store.set('session', { user: 2 }, { ifVersion: null })
    expect(await store.getEntry('session')).toEqual({ value: { user: 2 }, version: again })
  })

  it('a write without ttlMs makes the key permanent again', async () => {
    const store = open()
    await store.set('k', 1, { ttlMs: 60_000 })
    await store.set('k', 2)
    const { rows } = await admin.query(
      `SELECT expires_at FROM ${DEFAULT_POSTGRES_TABLE} WHERE namespace = $1`,
      [namespaces.at(-1)],
    )
    expect(rows).toEqual([{ expires_at: null }])
  })

  it('writes sweep expired rows in the background, whatever their namespace', async () => {
    // an abandoned namespace's expired rows go too: no write of its own will ever come
    const abandoned = open({ sweepIntervalMs: 0 })
    const namespace = namespaces.at(-1) ?? ''
    await abandoned.setMany({ a: 1, b: 2 }, { ttlMs: 100 })
    await until(async () => (await abandoned.get('a')) === undefined, 5_000, 'expiry')
    const store = open({ sweepIntervalMs: 1 })
    let writes = 0
    await until(
      async () => {
        await store.set(`write:${writes++}`, writes)
        return !(await rowsOf(namespace)).includes('a')
      },
      5_000,
      'sweep',
    )
    expect(await rowsOf(namespace)).not.toContain('b')
  })
})

describe('keys', () => {
  it('treats LIKE metacharacters in a prefix as plain characters', async () => {
    const store = open()
    const keys = ['50%', '50% off', '500', '50_', '5012', 'a\\b', 'a\\\\b', 'axb', 'a_b']
    await store.setMany(Object.fromEntries(keys.map((key) => [key, 1])))
    const listed = async (prefix: string) => (await collect(store.keys(prefix, { pageSize: 2 }))).sort()
    expect(await listed('50%')).toEqual(['50%', '50% off'])
    expect(await listed('50_')).toEqual(['50_'])
    expect(await listed('a\\')).toEqual(['a\\\\b', 'a\\b'])
    expect(await listed('a_')).toEqual(['a_b'])
    expect(await listed('5')).toHaveLength(5)
  })

  it('pages by key: a page size of one lists each key once, a prefix beyond every key lists none', async () => {
    const store = open()
    const keys = Array.from({ length: 25 }, (_, index) => `item:${String(index).padStart(2, '0')}`)
    await store.setMany(Object.fromEntries(keys.map((key) => [key, key])))
    await store.set('other', 0)
    expect(await collect(store.keys('item:', { pageSize: 1 }))).toEqual(keys)
    expect(await collect(store.keys('\u{10ffff}'))).toEqual([])
  })
})

describe('bad input', () => {
  it('a key PostgreSQL text cannot hold is refused with a validation error, and nothing is written', async () => {
    const store = open()
    await expect(store.set('a\u0000b', 1)).rejects.toMatchObject({ status: 400, code: 'VALIDATION_FAILED' })
    await expect(store.setMany({ good: 1, 'bad\u0000': 2 })).rejects.toMatchObject({ status: 400 })
    await expect(store.get('a\u0000b')).rejects.toMatchObject({ status: 400 })
    expect(await rowsOf(namespaces.at(-1) ?? '')).toEqual([])
  })

  it('refuses a namespace it could not store and limits outside what PostgreSQL indexes', () => {
    const base = { connectionString: POSTGRES_URL }
    expect(() => postgresStateStore({ ...base, namespace: '' })).toThrow(/namespace/)
    expect(() => postgresStateStore({ ...base, namespace: 'a\u0000' })).toThrow(/namespace/)
    expect(() => postgresStateStore({ ...base, namespace: 'x'.repeat(257) })).toThrow(/namespace/)
    expect(() => postgresStateStore({ ...base, namespace: 'n', maxKeyBytes: 4096 })).toThrow(/maxKeyBytes/)
    expect(() => postgresStateStore({ ...base, namespace: 'n', pool: admin })).toThrow(/either a pool/)
  })
})

describe('connections', () => {
  it('never ends a pool it was given; ends the one it opened', async () => {
    namespaces.push(uniqueName('pgtest'), uniqueName('pgtest'))
    const [givenNamespace = '', ownedNamespace = ''] = namespaces.slice(-2)
    const given = postgresStateDriver({ namespace: givenNamespace, pool: admin })
    await given.set('k', '1', {})
    await given.close?.()
    expect(admin.ended).toBe(false)
    expect((await admin.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])

    const owned = postgresStateDriver({ namespace: ownedNamespace, connectionString: POSTGRES_URL })
    await owned.set('k', '1', {})
    const ownPool = owned.pool
    await owned.close?.()
    expect(ownPool.ended).toBe(true)
    await expect(owned.get('k')).rejects.toThrow(/after close/)
  })

  it('getMany is one query, whatever the number of keys', async () => {
    const pool = rawPool()
    closers.push(() => pool.end())
    const store = open({ pool, connectionString: undefined })
    await store.setMany(Object.fromEntries(Array.from({ length: 40 }, (_, index) => [`k${index}`, index])))
    // a spy that calls through: counts round trips to the real server
    const queries = vi.spyOn(pool, 'query')
    const values = await store.getMany(Array.from({ length: 40 }, (_, index) => `k${39 - index}`))
    expect(values).toEqual(Array.from({ length: 40 }, (_, index) => 39 - index))
    expect(queries).toHaveBeenCalledTimes(1)
  })

  it('the config store shares the table under its own namespace', async () => {
    const namespace = uniqueName('pgtest')
    namespaces.push(namespace)
    const config = postgresConfigStore({ namespace, connectionString: POSTGRES_URL })
    closers.push(() => config.close())
    await config.set('flags', { beta: true })
    expect(await config.get('flags')).toEqual({ beta: true })
    expect(await rowsOf(namespace)).toEqual(['flags'])
  })
})
