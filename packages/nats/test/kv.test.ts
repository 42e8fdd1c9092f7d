import { randomBytes } from 'node:crypto'
import { CapabilityError, ConflictError } from '@conduit/core'
import { Kvm } from '@nats-io/kv'
import { afterEach, describe, expect, it } from 'vitest'
import { createNatsConfigStore, createNatsStateStore, NATS_KV_STORE_NAME } from '../src/index.js'
import { Testbed } from './fixtures.js'
import { NATS_URL, NatsAdmin } from './support.js'

// NATS KV specifics the conformance suite cannot see: how keys land in the bucket, what the
// server does with revisions and markers, and the connection it shares or owns.

const uniqueBucket = () => `t_${randomBytes(6).toString('hex')}`

async function collect(keys: AsyncIterable<string>): Promise<string[]> {
  const all: string[] = []
  for await (const key of keys) all.push(key)
  return all.sort()
}

describe('NATS KV stores', { timeout: 30_000 }, () => {
  const buckets: string[] = []
  const closers: (() => Promise<void>)[] = []
  afterEach(async () => {
    await Promise.allSettled(closers.splice(0).map((close) => close()))
    const admin = await NatsAdmin.connect()
    for (const bucket of buckets.splice(0)) await admin.jsm.streams.delete(`KV_${bucket}`).catch(() => false)
    await admin.close()
  })

  function stateStore(bucket = uniqueBucket(), namespace?: string) {
    if (!buckets.includes(bucket)) buckets.push(bucket)
    const store = createNatsStateStore({
      bucket,
      servers: NATS_URL,
      storage: 'memory',
      ...(namespace === undefined ? {} : { namespace }),
    })
    closers.push(store.close)
    return store
  }

  it('versions are KV revisions; a stale one loses, and create works again over a delete marker', async () => {
    const store = stateStore()
    expect(store.name).toBe(NATS_KV_STORE_NAME)
    const first = await store.set('user:1', { name: 'Ada' })
    expect(first).toMatch(/^\d+$/)
    const second = await store.set('user:1', { name: 'Ada L.' }, { ifVersion: first })
    expect(Number(second)).toBeGreaterThan(Number(first))
    await expect(store.set('user:1', { name: 'stale' }, { ifVersion: first })).rejects.toBeInstanceOf(
      ConflictError,
    )
    await expect(store.set('user:1', 'x', { ifVersion: 'not-a-revision' })).rejects.toBeInstanceOf(
      ConflictError,
    )
    await store.delete('user:1', { ifVersion: second })
    // the key's last entry is now a delete marker: a create expects that marker and wins once
    const recreated = await store.set('user:1', { name: 'again' }, { ifVersion: null })
    await expect(store.set('user:1', { name: 'twice' }, { ifVersion: null })).rejects.toBeInstanceOf(
      ConflictError,
    )
    expect(await store.getEntry('user:1')).toEqual({ value: { name: 'again' }, version: recreated })
  })

  it('declares TTL a gap with its reason and refuses ttlMs', async () => {
    const store = stateStore()
    expect(store.capabilities.ttl).toMatchObject({ supported: false, reason: expect.stringMatching(/2\.11/) })
    await expect(store.set('session', 1, { ttlMs: 1_000 })).rejects.toBeInstanceOf(CapabilityError)
    expect(await store.get('session')).toBeUndefined()
  })

  it('declares the server max_payload less header room, and a value that size round trips', async () => {
    const store = stateStore()
    await store.get('connect')
    const admin = await NatsAdmin.connect()
    const maxPayload = admin.nc.info!.max_payload
    await admin.close()
    expect(store.capabilities.maxValueBytes).toBe(maxPayload - 1024)
    const largest = 'é'.repeat((store.capabilities.maxValueBytes - 2) / 2)
    const version = await store.set('large', largest)
    expect(await store.set('large', largest, { ifVersion: version })).toMatch(/^\d+$/)
  })

  it('the longest declared key fits even when every byte needs escaping', async () => {
    const store = stateStore(uniqueBucket(), 'a namespace')
    const worst = '%'.repeat(store.capabilities.maxKeyBytes)
    await store.set(worst, 1)
    expect(await store.get(worst)).toBe(1)
    expect(await collect(store.keys())).toEqual([worst])
    await store.delete(worst)
  })

  it('keeps the default namespace where stores before namespaces wrote it, apart from named ones', async () => {
    const bucket = uniqueBucket()
    const plain = stateStore(bucket)
    const named = stateStore(bucket, 'billing.v1')
    await plain.set('user.3', 'plain')
    await named.set('user.3', 'named')
    const admin = await NatsAdmin.connect()
    const kv = await new Kvm(admin.nc).open(bucket)
    expect((await kv.get('user=2E3'))?.string()).toBe('"plain"')
    expect((await kv.get('billing=2Ev1.user=2E3'))?.string()).toBe('"named"')
    await admin.close()
    expect(await collect(plain.keys())).toEqual(['user.3'])
    expect(await collect(named.keys('user'))).toEqual(['user.3'])
  })

  it('lists in pages without deleted keys; keys rewritten during the listing are never missed', async () => {
    const store = stateStore()
    await store.setMany(Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`k:${i}`, i])))
    await store.delete('k:3')
    const rewritten = ['k:0', 'k:24'] // one listed before its rewrite, one after
    const seen = new Map<string, number>()
    for await (const key of store.keys('k:', { pageSize: 4 })) {
      if (seen.size === 0) for (const key of rewritten) await store.set(key, 'rewritten')
      seen.set(key, (seen.get(key) ?? 0) + 1)
    }
    expect(seen.size).toBe(24)
    expect(seen.has('k:3')).toBe(false)
    for (const [key, times] of seen) expect(times, key).toBe(rewritten.includes(key) ? times : 1)
    for (const key of rewritten) expect(seen.get(key)).toBeGreaterThanOrEqual(1)
  })

  it('a config store shares the bridge connection and sees values set elsewhere', async () => {
    const bed = new Testbed()
    closers.push(() => bed.close())
    const bridge = await bed.bridge()
    const bucket = uniqueBucket()
    buckets.push(bucket)
    const config = createNatsConfigStore({ bucket, connection: bridge.connection!, storage: 'memory' })
    const other = createNatsConfigStore({ bucket, servers: NATS_URL, storage: 'memory' })
    closers.push(config.close, other.close)
    await config.set('features', { newCheckout: true })
    expect(await other.get('features')).toEqual({ newCheckout: true })
    await config.close()
    expect(bridge.connection!.isClosed()).toBe(false)
  })

  it('refuses a bucket name KV cannot hold', () => {
    expect(() => createNatsStateStore({ bucket: 'no.dots' })).toThrow(/Invalid NATS KV bucket "no.dots"/)
  })
})
