import { describe, expect, it } from 'vitest'
import { PacketIdGaps } from './PacketIdGaps.js'

describe('PacketIdGaps', () => {
  it('counts the identifiers skipped in a new session, from 1', () => {
    const gaps = new PacketIdGaps(0)
    expect(gaps.observe(1, false)).toBeUndefined()
    expect(gaps.observe(2, false)).toBeUndefined()
    expect(gaps.observe(6, false)).toEqual({ missing: 3, after: 2, at: 6 })
    expect(new PacketIdGaps(0).observe(4, false)).toEqual({ missing: 3, after: undefined, at: 4 })
  })

  it('wraps from 65535 to 1 (0 is never used)', () => {
    const gaps = new PacketIdGaps(65_534)
    expect(gaps.observe(65_535, false)).toBeUndefined()
    expect(gaps.observe(1, false)).toBeUndefined()
    expect(new PacketIdGaps(65_534).observe(2, false)).toEqual({ missing: 2, after: 65_534, at: 2 })
  })

  it('ignores redeliveries (DUP) of what came before, but not a DUP that skips ahead', () => {
    const gaps = new PacketIdGaps(10)
    expect(gaps.observe(10, true)).toBeUndefined()
    expect(gaps.observe(9, true)).toBeUndefined()
    expect(gaps.observe(13, true)).toEqual({ missing: 2, after: 10, at: 13 })
  })

  it('takes the first identifier as the baseline when the session is unknown (adopted after a crash)', () => {
    const gaps = new PacketIdGaps(undefined)
    expect(gaps.observe(500, true)).toBeUndefined()
    expect(gaps.observe(502, false)).toEqual({ missing: 1, after: 500, at: 502 })
    gaps.reset(0)
    expect(gaps.observe(1, false)).toBeUndefined()
  })
})
