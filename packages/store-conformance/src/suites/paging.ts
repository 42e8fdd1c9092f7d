import { expect, it } from 'vitest'
import { listed, type StoreCase } from '../subject.js'

const MANY = 10_000

export function paging(stores: StoreCase): void {
  it(`keys(prefix) streams ${MANY.toLocaleString('en')} keys in pages, each exactly once, and only those under the prefix`, {
    timeout: 120_000,
  }, async () => {
    const store = await stores.fresh('paging')
    for (let start = 0; start < MANY; start += 500) {
      await store.setMany(
        Object.fromEntries(
          Array.from({ length: 500 }, (_, offset) => [`page:${start + offset}`, start + offset]),
        ),
      )
    }
    await store.setMany({ 'pager:not-this': 1, 'other:x': 2, pag: 3 })
    for (const pageSize of [100, 1_000]) {
      const seen = await listed(store, 'page:', pageSize)
      expect(seen.size).toBe(MANY)
      expect([...seen.values()].every((times) => times === 1)).toBe(true)
      expect([...seen.keys()].every((key) => key.startsWith('page:'))).toBe(true)
    }
    expect((await listed(store)).size).toBe(MANY + 3)
  })

  it('two namespaces on one server never see each other: same key, separate values and listings', async () => {
    const billing = await stores.fresh('billing')
    const shipping = await stores.fresh('shipping')
    await billing.set('order:1', { from: 'billing' })
    await shipping.set('order:1', { from: 'shipping' })
    await shipping.set('order:2', { from: 'shipping' })
    expect(await billing.get('order:1')).toEqual({ from: 'billing' })
    expect(await shipping.get('order:1')).toEqual({ from: 'shipping' })
    expect(await billing.get('order:2')).toBeUndefined()
    expect([...(await listed(billing)).keys()]).toEqual(['order:1'])
    expect([...(await listed(shipping, 'order:')).keys()].sort()).toEqual(['order:1', 'order:2'])
    await billing.delete('order:1')
    expect(await shipping.get('order:1')).toEqual({ from: 'shipping' })
  })
}
