import { expect, it } from 'vitest'
import { listed, type StoreCase } from '../subject.js'

const circular: Record<string, unknown> = { name: 'loop' }
circular.self = circular

/** Values JSON would change or drop, with the path the error must name. */
const NOT_JSON: [label: string, value: unknown, path: (string | number)[]][] = [
  ['a Date', { at: new Date(0) }, ['at']],
  ['NaN', { ratio: Number.NaN }, ['ratio']],
  ['Infinity', [1, Number.POSITIVE_INFINITY], [1]],
  ['a function', { run: () => 1 }, ['run']],
  ['a bigint', { big: 10n }, ['big']],
  ['a Map', new Map([['a', 1]]), []],
  ['undefined', undefined, []],
  ['undefined in an array', [1, undefined], [1]],
  ['a circular reference', circular, ['self']],
  ['a symbol', { s: Symbol('x') }, ['s']],
]

export function badInput(stores: StoreCase): void {
  it('a value JSON cannot carry unchanged is refused with a ValidationError naming where, and nothing is written', async () => {
    const store = await stores.fresh('nonjson')
    await store.set('kept', 'before')
    for (const [label, value, path] of NOT_JSON) {
      const attempt = store.set('kept', value)
      await expect(attempt, label).rejects.toMatchObject({ status: 400, code: 'VALIDATION_FAILED' })
      await expect(attempt, label).rejects.toMatchObject({ data: { target: 'state', issues: [{ path }] } })
      expect(await store.get('kept'), label).toBe('before')
    }
  })

  it('an over-long, empty or malformed key is refused with a clear error, and nothing is written', async () => {
    const store = await stores.fresh('badkey')
    const tooLong = 'k'.repeat(store.capabilities.maxKeyBytes + 1)
    await expect(store.set(tooLong, 1)).rejects.toThrow(`takes at most ${store.capabilities.maxKeyBytes}`)
    await expect(store.set('', 1)).rejects.toThrow(/non-empty string/)
    await expect(store.set('half\uD800', 1)).rejects.toThrow(/surrogate/)
    await expect(store.set('nul\u0000key', 1)).rejects.toThrow(/NUL/)
    await expect(store.get(tooLong)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' })
    // the longest allowed key works
    const longest = 'k'.repeat(store.capabilities.maxKeyBytes)
    await store.set(longest, 'longest')
    expect(await store.get(longest)).toBe('longest')
    expect([...(await listed(store)).keys()]).toEqual([longest])
  })

  it('setMany with one bad entry writes none of them', async () => {
    const store = await stores.fresh('badbatch')
    await expect(
      store.setMany({ good: 1, alsoGood: { a: 1 }, bad: { at: new Date(0) } }),
    ).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    })
    expect((await listed(store)).size).toBe(0)
  })
}
