import { CapabilityError } from '@conduit/core'
import { expect, it, vi } from 'vitest'
import type { StoreCase } from '../subject.js'
import { collect } from './basics.js'

/** The suite's TTL; a driver with whole-second TTLs rounds it up to 1 s. */
const TTL_MS = 400

export function ttl(stores: StoreCase): void {
  it('a key written with ttlMs is there at once, then expires: get, getMany and keys no longer see it', {
    timeout: 30_000,
  }, async () => {
    const store = await stores.fresh('ttl')
    if (!store.capabilities.ttl.supported) {
      await expect(store.set('session', { id: 1 }, { ttlMs: TTL_MS })).rejects.toBeInstanceOf(CapabilityError)
      await expect(store.setMany({ session: 1 }, { ttlMs: TTL_MS })).rejects.toBeInstanceOf(CapabilityError)
      expect(await store.get('session')).toBeUndefined()
      expect(store.capabilities.ttl.reason.length).toBeGreaterThan(10)
      return
    }
    const writtenAt = Date.now()
    await store.set('session', { id: 1 }, { ttlMs: TTL_MS })
    await store.setMany({ 'session:batch': 2 }, { ttlMs: TTL_MS })
    await store.set('kept', { id: 2 })
    const stillThere = await store.get('session')
    // a slow machine may already be past the TTL; only a read inside it must see the value
    if (Date.now() - writtenAt < TTL_MS / 2) expect(stillThere).toEqual({ id: 1 })
    await vi.waitFor(
      async () => {
        expect(await store.get('session')).toBeUndefined()
        expect(await store.getMany(['session:batch'])).toEqual([undefined])
      },
      { timeout: 15_000, interval: 100 },
    )
    expect(Date.now() - writtenAt).toBeGreaterThanOrEqual(TTL_MS - 50)
    await vi.waitFor(async () => expect(await collect(store.keys())).toEqual(['kept']), {
      timeout: 15_000,
      interval: 100,
    })
    expect(await store.get('kept')).toEqual({ id: 2 })
  })

  it('ttlMs must be a positive whole number of milliseconds', async () => {
    const store = await stores.fresh('ttlcheck')
    if (!store.capabilities.ttl.supported) return
    for (const bad of [0, -5, 1.5, Number.NaN]) {
      await expect(store.set('k', 1, { ttlMs: bad })).rejects.toThrow(/ttlMs/)
    }
    expect(await store.get('k')).toBeUndefined()
  })
}
