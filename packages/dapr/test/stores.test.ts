import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type DaprSecretStore, type DaprStateStore, daprSecretStore, daprStateStore } from '../src/index.js'
import { DaprEmulator } from './emulator/index.js'

// The Dapr state and secret stores against the emulated sidecar's state and secrets API.

let emulator: DaprEmulator
let daprHttpPort: number
const opened: (DaprStateStore | DaprSecretStore)[] = []

function stateStore(options: Parameters<typeof daprStateStore>[0] = {}): DaprStateStore {
  const store = daprStateStore({ daprHttpPort, ...options })
  opened.push(store)
  return store
}

beforeEach(async () => {
  emulator = await DaprEmulator.start({
    stateStores: ['statestore', 'other'],
    secretStores: { secretstore: { 'db-password': 's3cret', 'api-key': 'k' } },
  })
  daprHttpPort = (await emulator.addSidecar({ appId: 'stores' })).daprHttpPort
})

afterEach(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close()))
  await emulator.close()
})

describe('daprStateStore', () => {
  it('sets, gets, lists by prefix and deletes JSON values', async () => {
    const store = stateStore()
    expect(await store.get('user:1')).toBeUndefined()
    await store.set('user:1', { name: 'Ada', tags: ['x'] })
    await store.set('user:2', '')
    await store.set('order:1', 0)
    expect(await store.get('user:1')).toEqual({ name: 'Ada', tags: ['x'] })
    expect(await store.get('user:2')).toBe('') // an empty string is not "missing"
    expect(await store.get('order:1')).toBe(0)
    expect(await store.keys('user:')).toEqual(['user:1', 'user:2'])
    expect(await store.keys()).toEqual(['order:1', 'user:1', 'user:2'])
    await store.delete('user:1')
    expect(await store.get('user:1')).toBeUndefined()
    expect(await store.keys('user:')).toEqual(['user:2'])
  })

  it('keeps the key index right when several processes write at once (ETag conflicts are retried)', async () => {
    const writers = [stateStore(), stateStore(), stateStore()]
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        writers[i % writers.length]!.set(`k${String(i).padStart(2, '0')}`, i),
      ),
    )
    expect(await writers[0]!.keys('k')).toEqual(
      Array.from({ length: 30 }, (_, i) => `k${String(i).padStart(2, '0')}`),
    )
  })

  it('works without a key index, where keys() says it cannot list', async () => {
    const store = stateStore({ storeName: 'other', keyIndex: false })
    await store.set('a', 1)
    expect(await store.get('a')).toBe(1)
    await expect(store.keys()).rejects.toMatchObject({ status: 501, code: 'NOT_SUPPORTED' })
    await store.delete('a')
    expect(await store.get('a')).toBeUndefined()
  })

  it('refuses the key that holds the index, and reports an unknown store', async () => {
    await expect(stateStore().set('conduit.keys', [])).rejects.toMatchObject({ code: 'RESERVED_KEY' })
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
