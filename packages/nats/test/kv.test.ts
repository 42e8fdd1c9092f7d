import { randomBytes } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { createNatsConfigStore, createNatsStateStore, NATS_KV_STORE_NAME } from '../src/index.js'
import { Testbed } from './fixtures.js'
import { NATS_URL, NatsAdmin } from './support.js'

const uniqueBucket = () => `t_${randomBytes(6).toString('hex')}`

describe('NATS KV stores', { timeout: 20_000 }, () => {
  const buckets: string[] = []
  const closers: (() => Promise<void>)[] = []
  afterEach(async () => {
    await Promise.allSettled(closers.splice(0).map((close) => close()))
    const admin = await NatsAdmin.connect()
    for (const bucket of buckets.splice(0)) await admin.jsm.streams.delete(`KV_${bucket}`).catch(() => false)
    await admin.close()
  })

  function stateStore() {
    const bucket = uniqueBucket()
    buckets.push(bucket)
    const store = createNatsStateStore({ bucket, servers: NATS_URL, storage: 'memory' })
    closers.push(store.close)
    return store
  }

  it('keeps JSON values by key, and forgets deleted ones', async () => {
    const store = stateStore()
    expect(store.name).toBe(NATS_KV_STORE_NAME)
    expect(await store.get('user:1')).toBeUndefined()
    await store.set('user:1', { name: 'Ada', tags: ['a', 'b'], age: 36 })
    expect(await store.get('user:1')).toEqual({ name: 'Ada', tags: ['a', 'b'], age: 36 })
    await store.set('user:1', { name: 'Ada Lovelace' })
    expect(await store.get('user:1')).toEqual({ name: 'Ada Lovelace' })
    await store.delete('user:1')
    expect(await store.get('user:1')).toBeUndefined()
    await store.set('counter', 0)
    expect(await store.get('counter')).toBe(0)
    await store.set('counter', undefined)
    expect(await store.get('counter')).toBeUndefined()
  })

  it('accepts any key and lists keys by prefix', async () => {
    const store = stateStore()
    const keys = ['user:1', 'user:2', 'user.3', 'order/9', 'ünïcode 🚀', '']
    for (const key of keys) await store.set(key, key)
    for (const key of keys) expect(await store.get(key)).toBe(key)
    await store.delete('user:2')
    expect((await store.keys('user:')).sort()).toEqual(['user:1'])
    expect((await store.keys('user')).sort()).toEqual(['user.3', 'user:1'])
    expect((await store.keys()).sort()).toEqual(['', 'order/9', 'user.3', 'user:1', 'ünïcode 🚀'].sort())
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
  })

  it('refuses a bucket name KV cannot hold', () => {
    expect(() => createNatsStateStore({ bucket: 'no.dots' })).toThrow(/Invalid NATS KV bucket "no.dots"/)
  })
})
