// What the conformance suite cannot see from the StateStore API: the layout in Redis, versions
// across delete and re-create, glob characters in namespaces and prefixes, client ownership,
// an unreachable server, and round trips per batch.
import { randomUUID } from 'node:crypto'
import { createServer } from 'node:net'
import { ConflictError, isConduitError, type StateStore } from '@conduit/core'
import { createClient } from '@redis/client'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type RedisCommandClient, redisConfigStore, redisStateDriver, redisStateStore } from '../src/index.js'
import { REDIS_URL } from './support/storeFactory.js'

const raw = createClient({ url: REDIS_URL })
const opened: StateStore[] = []
const namespaces: string[] = []

function namespaceFor(label: string): string {
  const namespace = `redistest_${label}_${randomUUID().slice(0, 8)}`
  namespaces.push(namespace)
  return namespace
}

function store(label: string, options: Partial<Parameters<typeof redisStateStore>[0]> = {}): StateStore {
  const opening = redisStateStore({ namespace: namespaceFor(label), url: REDIS_URL, ...options })
  opened.push(opening)
  return opening
}

async function collect(keys: AsyncIterable<string>): Promise<string[]> {
  const all: string[] = []
  for await (const key of keys) all.push(key)
  return all.sort()
}

beforeAll(async () => {
  raw.on('error', () => undefined)
  await raw.connect()
})

afterEach(async () => {
  await Promise.allSettled(opened.splice(0).map((each) => each.close()))
  for (const namespace of namespaces.splice(0)) {
    for await (const keys of raw.scanIterator({ MATCH: `${namespace.replace(/[*?[\]\\]/g, '\\$&')}:*` })) {
      if (keys.length > 0) await raw.del(keys)
    }
  }
})

afterAll(async () => {
  await raw.close()
})

describe('redis store layout', () => {
  it('keeps an entry as one hash <namespace>:<key> = { v, ver }, whose TTL covers both fields', async () => {
    const users = store('layout')
    const namespace = namespaces.at(-1)
    const version = await users.set('user:1', { name: 'Ada' }, { ttlMs: 60_000 })
    expect(await raw.hGetAll(`${namespace}:user:1`)).toEqual({ v: '{"name":"Ada"}', ver: version })
    const ttl = await raw.pTTL(`${namespace}:user:1`)
    expect(ttl).toBeGreaterThan(50_000)
    expect(ttl).toBeLessThanOrEqual(60_000)

    // a write without ttlMs keeps the value for good, as SET does
    await users.set('user:1', { name: 'Ada L.' })
    expect(await raw.pTTL(`${namespace}:user:1`)).toBe(-1)
    await users.setMany({ 'user:1': { name: 'Ada' } }, { ttlMs: 60_000 })
    expect(await raw.pTTL(`${namespace}:user:1`)).toBeGreaterThan(50_000)
    await users.setMany({ 'user:1': { name: 'Ada' } })
    expect(await raw.pTTL(`${namespace}:user:1`)).toBe(-1)
  })

  it('gives every write a new version, also after a delete and re-create (no ABA)', async () => {
    const users = store('versions')
    const first = await users.set('user:1', 1)
    await users.delete('user:1')
    const second = await users.set('user:1', 1)
    expect(second).not.toBe(first)
    await expect(users.set('user:1', 2, { ifVersion: first })).rejects.toBeInstanceOf(ConflictError)
    await expect(users.delete('user:1', { ifVersion: first })).rejects.toBeInstanceOf(ConflictError)
    expect(await users.getEntry('user:1')).toEqual({ value: 1, version: second })

    await users.setMany({ 'user:1': 3 })
    const batched = (await users.getEntry('user:1'))?.version
    expect(batched).toBeDefined()
    expect([first, second]).not.toContain(batched)
  })

  it('treats glob characters in namespace and prefix literally', async () => {
    const starred = store('a*')
    // its pattern unescaped (`redistest_a*_...:*`) would also match this namespace's keys
    const other = redisStateStore({ namespace: namespaces.at(-1)!.replace('a*', 'ab'), url: REDIS_URL })
    opened.push(other)
    namespaces.push(namespaces.at(-1)!.replace('a*', 'ab'))
    await starred.setMany({ 'k*1': 1, 'k?2': 2, 'k[3]': 3, 'k\\4': 4, kx: 5 })
    await other.set('k*1', 'other')
    expect(await collect(starred.keys())).toEqual(['k*1', 'k?2', 'k[3]', 'k\\4', 'kx'])
    expect(await collect(starred.keys('k*'))).toEqual(['k*1'])
    expect(await collect(starred.keys('k?'))).toEqual(['k?2'])
    expect(await collect(starred.keys('k['))).toEqual(['k[3]'])
    expect(await collect(starred.keys('k\\'))).toEqual(['k\\4'])
    expect(await collect(other.keys())).toEqual(['k*1'])
  })

  it('runs its scripts again after the server forgot them (restart or SCRIPT FLUSH)', async () => {
    const users = store('noscript')
    const version = await users.set('user:1', 1)
    await raw.scriptFlush()
    expect(await users.set('user:1', 2, { ifVersion: version })).not.toBe(version)
    await raw.scriptFlush()
    await users.delete('user:1', { ifVersion: (await users.getEntry('user:1'))!.version })
    expect(await users.get('user:1')).toBeUndefined()
  })

  it('passes a reply error through as the server said it, even on the first command', async () => {
    const users = store('wrongtype')
    await raw.set(`${namespaces.at(-1)}:plain`, 'not a hash')
    await expect(users.get('plain')).rejects.toThrow(/^WRONGTYPE/)
  })

  it('declares the key and value limits it was given', () => {
    const driver = redisStateDriver({
      namespace: 'limits',
      maxKeyBytes: 4096,
      maxValueBytes: 64 * 1024 * 1024,
    })
    expect(driver.capabilities).toMatchObject({ maxKeyBytes: 4096, maxValueBytes: 64 * 1024 * 1024 })
    expect(redisStateDriver({ namespace: 'limits' }).capabilities).toMatchObject({
      maxKeyBytes: 1024,
      maxValueBytes: 16 * 1024 * 1024,
      conditionalWrites: { supported: true },
      ttl: { supported: true },
    })
  })
})

describe('redis store options and clients', () => {
  it('refuses a namespace that could overlap another, and unclear client options', () => {
    expect(() => redisStateStore({ namespace: 'app:users' })).toThrow(/must not contain ':'/)
    expect(() => redisStateStore({ namespace: '' })).toThrow(/non-empty/)
    expect(() => redisStateStore({ namespace: 'x', client: raw, url: REDIS_URL })).toThrow(/either a client/)
    const prefixed = createClient({ url: REDIS_URL, keyPrefix: 'app:' })
    expect(() => redisStateStore({ namespace: 'x', client: prefixed })).toThrow(/keyPrefix/)
    expect(() => redisStateStore({ namespace: 'x', maxValueBytes: 0 })).toThrow(/maxValueBytes/)
  })

  it('uses a given client (RESP2 too) and never closes it', async () => {
    const resp2 = createClient({ url: REDIS_URL, RESP: 2 })
    await resp2.connect()
    try {
      const users = store('given', { client: resp2, url: undefined })
      const version = await users.set('user:1', { name: 'Ada' })
      expect(await users.getEntry('user:1')).toEqual({ value: { name: 'Ada' }, version })
      expect(await users.getMany(['user:1', 'user:2'])).toEqual([{ name: 'Ada' }, undefined])
      expect(await collect(users.keys('user:'))).toEqual(['user:1'])
      await users.close()
      expect(resp2.isReady).toBe(true)
      expect(await resp2.ping()).toBe('PONG')
      await expect(users.get('user:1')).rejects.toThrow(/store is closed/)
    } finally {
      await resp2.close()
    }
  })

  it('closes the client it opened; a closed store says so', async () => {
    const driver = redisStateDriver({ namespace: namespaceFor('owned'), url: REDIS_URL })
    await driver.set('k', '1', {})
    const client = driver.getInstance() as RedisCommandClient & { isOpen: boolean }
    expect(client.isOpen).toBe(true)
    await driver.close()
    expect(client.isOpen).toBe(false)
    await expect(driver.get('k')).rejects.toThrow(/store is closed/)
  })

  it('fails within the command timeout with a 503 naming the server when Redis is unreachable', async () => {
    const port = await unusedPort()
    const unreachable = redisStateStore({
      namespace: 'nowhere',
      url: `redis://user:secret@127.0.0.1:${port}`,
      clientOptions: { commandOptions: { timeout: 300 } },
    })
    const started = Date.now()
    const error = await unreachable.get('k').catch((caught: unknown) => caught)
    expect(Date.now() - started).toBeLessThan(3_000)
    expect(isConduitError(error) && error.status === 503 && error.retryable).toBe(true)
    expect(String((error as Error).message)).toMatch(new RegExp(`127\\.0\\.0\\.1:${port}.*ECONNREFUSED`))
    expect(String((error as Error).message)).not.toContain('secret')
    await unreachable.close()
  })

  it('reads and writes a batch in one MULTI: one round trip each', async () => {
    const client = createClient({ url: REDIS_URL })
    await client.connect()
    const calls = { commands: 0, transactions: 0 }
    const counting: RedisCommandClient = {
      get isReady() {
        return client.isReady
      },
      sendCommand: (args) => {
        calls.commands++
        return client.sendCommand(args)
      },
      multi: () => {
        calls.transactions++
        return client.multi()
      },
    }
    try {
      const users = store('batch', { client: counting, url: undefined })
      const entries = Object.fromEntries(Array.from({ length: 100 }, (_, index) => [`user:${index}`, index]))
      await users.setMany(entries, { ttlMs: 60_000 })
      const values = await users.getMany(Object.keys(entries))
      expect(values).toEqual(Object.values(entries))
      expect(calls).toEqual({ commands: 0, transactions: 2 })
    } finally {
      await client.close()
    }
  })
})

describe('redis config store', () => {
  it('reads and writes JSON values in its namespace', async () => {
    const namespace = namespaceFor('config')
    const config = redisConfigStore({ namespace, url: REDIS_URL })
    try {
      await config.set('flags', { beta: true })
      expect(await config.get('flags')).toEqual({ beta: true })
      expect(await config.get('missing')).toBeUndefined()
      expect(await raw.hGet(`${namespace}:flags`, 'v')).toBe('{"beta":true}')
    } finally {
      await config.close()
    }
  })
})

/** A loopback port nothing listens on (just released by a server of ours). */
async function unusedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}
