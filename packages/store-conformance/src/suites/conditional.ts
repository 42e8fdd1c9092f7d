import { CapabilityError, ConflictError } from '@conduit/core'
import { expect, it } from 'vitest'
import { raceInProcess, runRace } from '../race.js'
import { type StateStoreSubject, type StoreCase, uniqueNamespace } from '../subject.js'

export function conditionalWrites(stores: StoreCase, subject: StateStoreSubject): void {
  it('a write naming the current version wins; one naming a stale version fails with ConflictError and changes nothing', async () => {
    const store = await stores.fresh('ifversion')
    if (!store.capabilities.conditionalWrites.supported) {
      await expect(store.set('k', 1, { ifVersion: null })).rejects.toBeInstanceOf(CapabilityError)
      await expect(store.update('k', () => 1)).rejects.toBeInstanceOf(CapabilityError)
      expect(await store.get('k')).toBeUndefined()
      return
    }
    const v1 = await store.set('balance', 10)
    const v2 = await store.set('balance', 20, { ifVersion: v1 })
    const stale = store.set('balance', 30, { ifVersion: v1 })
    await expect(stale).rejects.toBeInstanceOf(ConflictError)
    await expect(stale).rejects.toMatchObject({ status: 409, code: 'CONFLICT' })
    expect(await store.getEntry('balance')).toEqual({ value: 20, version: v2 })
  })

  it('ifVersion null creates a key only while it does not exist', async () => {
    const store = await stores.fresh('create')
    if (!store.capabilities.conditionalWrites.supported)
      return expectDeclared(store.capabilities.conditionalWrites)
    const created = await store.set('order:1', { state: 'new' }, { ifVersion: null })
    await expect(store.set('order:1', { state: 'other' }, { ifVersion: null })).rejects.toBeInstanceOf(
      ConflictError,
    )
    expect(await store.getEntry('order:1')).toEqual({ value: { state: 'new' }, version: created })
    await store.delete('order:1')
    await expect(store.set('order:1', { state: 'again' }, { ifVersion: null })).resolves.toBeTypeOf('string')
  })

  it('a delete naming a stale version, or a key that is gone, fails with ConflictError; the current version deletes', async () => {
    const store = await stores.fresh('delete')
    if (!store.capabilities.conditionalWrites.supported)
      return expectDeclared(store.capabilities.conditionalWrites)
    const v1 = await store.set('cart', ['apple'])
    const v2 = await store.set('cart', ['apple', 'pear'])
    await expect(store.delete('cart', { ifVersion: v1 })).rejects.toBeInstanceOf(ConflictError)
    expect(await store.get('cart')).toEqual(['apple', 'pear'])
    await store.delete('cart', { ifVersion: v2 })
    expect(await store.get('cart')).toBeUndefined()
    await expect(store.delete('cart', { ifVersion: v2 })).rejects.toBeInstanceOf(ConflictError)
  })

  it('update applies the change to the current value and writes it', async () => {
    const store = await stores.fresh('update')
    if (!store.capabilities.conditionalWrites.supported)
      return expectDeclared(store.capabilities.conditionalWrites)
    expect(await store.update<number>('visits', (count) => (count ?? 0) + 1)).toBe(1)
    expect(await store.update<number>('visits', (count) => (count ?? 0) + 1)).toBe(2)
    expect(await store.get('visits')).toBe(2)
  })

  it('conditional write race: 2 processes x 500 update increments of one counter end at exactly 1000', {
    timeout: 120_000,
  }, async () => {
    const namespace = uniqueNamespace('race')
    const store = await stores.fresh('race', namespace)
    if (!store.capabilities.conditionalWrites.supported)
      return expectDeclared(store.capabilities.conditionalWrites)
    const results =
      subject.inProcessOnly === undefined
        ? await runRace(subject.factoryModule, namespace, 'counter', 500, 2)
        : await raceInProcess(store, 'counter', 500, 2)
    for (const result of results) expect(result).toMatchObject({ done: 500, gaveUp: 0 })
    expect(await store.get('counter')).toBe(1000)
    // the race is only a race if the writers really collided
    const conflicts = results.reduce((sum, result) => sum + result.conflicts, 0)
    console.info(`[store conformance] race on one counter: 1000 increments, ${conflicts} conflicts retried`)
  })
}

function expectDeclared(capability: { supported: boolean; reason?: string }): void {
  expect(capability.supported).toBe(false)
  expect(capability.reason?.length ?? 0).toBeGreaterThan(10)
}
