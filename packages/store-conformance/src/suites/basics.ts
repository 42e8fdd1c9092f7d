import { expect, it } from 'vitest'
import type { StoreCase } from '../subject.js'

/** Largest value the suite writes: the declared limit, capped so a test stays quick. */
const LARGEST_TESTED_VALUE = 16 * 1024 * 1024

const PROFILE = {
  name: 'Zoë Ærøskøbing',
  tags: ['a', 'b'],
  nested: { count: 3, ratio: 0.25, ok: true, none: null },
  empty: {},
  list: [],
}

export function basics(stores: StoreCase): void {
  it('round trip: a set value reads back equal, and every write gives a new version', async () => {
    const store = await stores.fresh('roundtrip')
    const first = await store.set('user:1', PROFILE)
    expect(await store.get('user:1')).toEqual(PROFILE)
    const entry = await store.getEntry('user:1')
    expect(entry).toEqual({ value: PROFILE, version: first })
    const second = await store.set('user:1', { ...PROFILE, name: 'Ada' })
    expect(second).not.toBe(first)
    expect(await store.get('user:1')).toEqual({ ...PROFILE, name: 'Ada' })
    for (const scalar of ['text', 0, -1.5, true, false, null, [1, 'two', null]]) {
      await store.set('scalar', scalar)
      expect(await store.get('scalar')).toEqual(scalar)
    }
  })

  it('unicode keys and values survive byte for byte', async () => {
    const store = await stores.fresh('unicode')
    const values: Record<string, unknown> = {
      'user:ñandú/日本語': { greeting: 'こんにちは 🌍', rtl: 'שלום', math: '∑∞≠', zwj: '👩‍👩‍👧' },
      'emoji:🎉🚀': '🎉',
      'spaces and "quotes" \\ / . * ? [ ] % _': 'escaped',
      'ctrl:\t\n': 'tab and newline in the key',
      'nul-in-value': 'a\u0000b',
    }
    for (const [key, value] of Object.entries(values)) await store.set(key, value)
    for (const [key, value] of Object.entries(values)) expect(await store.get(key)).toEqual(value)
    const keys = [...(await collect(store.keys()))].sort()
    expect(keys).toEqual(Object.keys(values).sort())
  })

  it('missing keys read as undefined, and an unconditional delete of one is fine', async () => {
    const store = await stores.fresh('missing')
    expect(await store.get('absent')).toBeUndefined()
    expect(await store.getEntry('absent')).toBeUndefined()
    await expect(store.delete('absent')).resolves.toBeUndefined()
    await store.set('present', 1)
    await store.delete('present')
    expect(await store.get('present')).toBeUndefined()
    expect(await collect(store.keys())).toEqual([])
  })

  it('a value at the declared maxValueBytes round trips; one byte more is refused and writes nothing', async () => {
    const store = await stores.fresh('large')
    const limit = Math.min(store.capabilities.maxValueBytes, LARGEST_TESTED_VALUE)
    // a JSON string's encoding is its characters plus two quotes
    const largest = 'x'.repeat(limit - 2)
    await store.set('large', largest)
    expect((await store.get<string>('large'))?.length).toBe(limit - 2)
    if (limit === store.capabilities.maxValueBytes) {
      await expect(store.set('larger', `${largest}x`)).rejects.toMatchObject({
        status: 400,
        code: 'VALIDATION_FAILED',
      })
      expect(await store.get('larger')).toBeUndefined()
    }
  })

  it('getMany answers in the order asked, undefined where missing; setMany writes every entry', async () => {
    const store = await stores.fresh('batch')
    const entries = Object.fromEntries(Array.from({ length: 50 }, (_, index) => [`item:${index}`, { index }]))
    await store.setMany(entries)
    const asked = ['item:49', 'nope', 'item:0', 'item:7']
    expect(await store.getMany(asked)).toEqual([{ index: 49 }, undefined, { index: 0 }, { index: 7 }])
    expect((await collect(store.keys('item:'))).length).toBe(50)
    expect(await store.getMany([])).toEqual([])
  })
}

export async function collect(keys: AsyncIterable<string>): Promise<string[]> {
  const all: string[] = []
  for await (const key of keys) all.push(key)
  return all
}
