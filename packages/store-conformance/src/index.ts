import { afterAll, afterEach, beforeAll, describe } from 'vitest'
import { loadFactory, type StateStoreSubject, StoreCase, type StoreFactory } from './subject.js'
import { badInput } from './suites/badInput.js'
import { basics } from './suites/basics.js'
import { conditionalWrites } from './suites/conditional.js'
import { paging } from './suites/paging.js'
import { ttl } from './suites/ttl.js'

export type { RaceResult } from './race.js'
export type { StateStoreSubject, StoreFactory } from './subject.js'

/**
 * The state store conformance suite: every driver's test file calls it once against its real
 * server. It runs only through the public StateStore API, and a gap the driver declares in its
 * capabilities is asserted as declared (with its reason), never skipped.
 */
export function testStateStore(subject: StateStoreSubject): void {
  describe(`${subject.name} state store conformance`, () => {
    let factory: StoreFactory | undefined
    const stores = new StoreCase(() => {
      if (!factory) throw new Error('the store factory is not loaded yet')
      return factory
    })
    beforeAll(async () => {
      factory = await loadFactory(subject.factoryModule)
    })
    afterEach(() => stores.cleanUp(), 60_000)
    afterAll(() => stores.cleanUp(), 60_000)

    describe('basics', () => basics(stores))
    describe('conditional writes', () => conditionalWrites(stores, subject))
    describe('ttl', () => ttl(stores))
    describe('paging and isolation', () => paging(stores))
    describe('bad input', () => badInput(stores))
  })
}
