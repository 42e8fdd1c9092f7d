import { ConflictError } from '@conduit/core'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { type DaprSecretStore, type DaprStateStore, daprSecretStore, daprStateStore } from '../src/index.js'
import { DaprEmulator } from '../src/testing/index.js'

// Dapr specifics the store conformance suite cannot see, against the emulated sidecar (a test
// fixture written from Dapr's documented state and secrets API): what lands in the state store,
// whole-second TTLs under exact expiry, writers in several processes, limits and foreign values.

let emulator: DaprEmulator
let daprHttpPort: number
const opened: (DaprStateStore | DaprSecretStore)[] = []

function stateStore(options: Parameters<typeof daprStateStore>[0] = {}): DaprStateStore {
  const store = daprStateStore({ daprHttpPort, ...options })
  opened.push(store)
  return store
}

async function raw(path: string, init: RequestInit = {}) {
  return fetch(`http://127.0.0.1:${daprHttpPort}/v1.0/state/statestore${path}`, init)
}

async function collect(keys: AsyncIterable<string>): Promise<string[]> {
  const all: string[] = []
  for await (const key of keys) all.push(key)
  return all.sort()
}

beforeEach(async () => {
  emulator = await DaprEmulator.start({
    stateStores: ['statestore'],
    secretStores: { secretstore: { 'db-password': 's3cret', 'api-key': 'k' } },
  })
  daprHttpPort = (await emulator.addSidecar({ appId: 'stores' })).daprHttpPort
})

afterEach(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close()))
  await emulator.close()
})

describe('daprStateStore', () => {
  it('stores a value in a versioned envelope under an escaped, namespaced key', async () => {
    const store = stateStore({ namespace: 'a:b' })
    const other = stateStore({ namespace: 'a' })
    const version = await store.set('x||y%', { n: 1 })
    await other.set('b:k:x||y%', 'other')
    const stored = await raw(`/${encodeURIComponent('a%3Ab:k:x%7C%7Cy%25')}`)
    expect(await stored.json()).toEqual({ r: version, v: { n: 1 } })
    expect(await store.get('x||y%')).toEqual({ n: 1 })
    expect(await collect(store.keys())).toEqual(['x||y%'])
    expect(await collect(other.keys())).toEqual(['b:k:x||y%'])
  })

  it('expires to the millisecond, and has Dapr remove the value after whole seconds', async () => {
    const store = stateStore()
    const writtenAt = Date.now()
    await store.set('session', 's', { ttlMs: 300 })
    await vi.waitFor(async () => expect(await store.get('session')).toBeUndefined(), {
      timeout: 5_000,
      interval: 20,
    })
    const goneAt = Date.now()
    expect(goneAt - writtenAt).toBeGreaterThanOrEqual(300)
    // the whole-second TTL Dapr got (rounded up to 1 s) has not run out yet
    if (goneAt - writtenAt < 900) expect((await raw('/:k:session')).status).toBe(200)
    await vi.waitFor(async () => expect((await raw('/:k:session')).status).toBe(204), {
      timeout: 5_000,
      interval: 50,
    })
    expect(Date.now() - writtenAt).toBeGreaterThanOrEqual(1_000)
    expect(await collect(store.keys())).toEqual([])
  })

  it('rewriting a key without ttlMs keeps it: the write tells Dapr ttlInSeconds -1', async () => {
    const store = stateStore()
    const table = emulator.stateTables.get('statestore')!
    await store.set('k', 1, { ttlMs: 5_000 })
    expect(table.get(':k:k')?.expiresAt).toBeGreaterThan(Date.now())
    await store.set('k', 2)
    expect(table.get(':k:k')?.expiresAt).toBeUndefined()
    expect(await store.get('k')).toBe(2)
    expect(await collect(store.keys())).toEqual(['k'])
  })

  it('stores in several processes share the index: concurrent creates of one key, exactly one wins', async () => {
    // separate stores have separate in-process queues, so they meet only at the buckets' ETags
    const stores = [
      stateStore({ indexBuckets: 2 }),
      stateStore({ indexBuckets: 2 }),
      stateStore({ indexBuckets: 2 }),
    ]
    const writes = Array.from({ length: 60 }, (_, i) => stores[i % 3]!.set(`key:${i}`, i))
    const creates = stores.map((store, i) =>
      store.set('shared', i, { ifVersion: null }).then(
        () => 'won',
        (error: unknown) => (error instanceof ConflictError ? 'lost' : Promise.reject(error)),
      ),
    )
    expect((await Promise.all(creates)).sort()).toEqual(['lost', 'lost', 'won'])
    await Promise.all(writes)
    expect(await collect(stores[1]!.keys('key:'))).toEqual(
      Array.from({ length: 60 }, (_, i) => `key:${i}`).sort(),
    )
    expect(await stores[2]!.getMany(['key:0', 'key:59'])).toEqual([0, 59])
  })

  it('refuses another bucket count for a namespace that has keys', async () => {
    await stateStore({ namespace: 'fixed' }).set('k', 1)
    await expect(stateStore({ namespace: 'fixed', indexBuckets: 8 }).set('k', 2)).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringMatching(/256 buckets/),
    })
  })

  it('declares maxValueBytes under the sidecar request limit, and a value that size fits with its bucket', async () => {
    await emulator.close()
    emulator = await DaprEmulator.start({ stateStores: ['statestore'], maxBodyBytes: 600 * 1024 })
    daprHttpPort = (await emulator.addSidecar({ appId: 'stores' })).daprHttpPort
    const store = stateStore({ maxRequestBytes: 600 * 1024 })
    expect(store.capabilities.maxValueBytes).toBe(600 * 1024 - 256 * 1024)
    const largest = 'x'.repeat(store.capabilities.maxValueBytes - 2)
    await store.set('large', largest)
    expect(await store.get('large')).toBe(largest)
    // a store told of a larger limit than the sidecar's hears Dapr refuse the request
    const optimistic = stateStore({ maxRequestBytes: 4 * 1024 * 1024 })
    await expect(optimistic.set('larger', 'x'.repeat(700 * 1024))).rejects.toMatchObject({
      code: 'DAPR_STATE_FAILED',
    })
    expect(await optimistic.get('larger')).toBeUndefined()
  })

  it('reports a value this store did not write, and an unknown state store', async () => {
    await raw('', { method: 'POST', body: JSON.stringify([{ key: ':k:foreign', value: 'plain' }]) })
    await expect(stateStore().get('foreign')).rejects.toMatchObject({ code: 'DAPR_STATE_FOREIGN_VALUE' })
    await expect(stateStore({ storeName: 'missing' }).get('a')).rejects.toMatchObject({
      code: 'DAPR_STATE_FAILED',
    })
  })
})

describe('daprSecretStore', () => {
  it('reads a secret through @dapr/dapr, and undefined for one that does not exist', async () => {
    const store = daprSecretStore({ daprHttpPort })
    opened.push(store)
    expect(await store.get('db-password')).toBe('s3cret')
    expect(await store.get('nope')).toBeUndefined()
  })

  it('reports an unknown secret store as a ConduitError', async () => {
    const store = daprSecretStore({ daprHttpPort, storeName: 'missing' })
    opened.push(store)
    await expect(store.get('db-password')).rejects.toMatchObject({ code: 'DAPR_SECRET_FAILED' })
  })
})
