import { describe, expect, it } from 'vitest'
import { idSequence, newId } from './envelopes.js'

describe('idSequence', () => {
  it('reads back the counter of every id this process made', () => {
    const first = idSequence(newId())
    expect(first).toBeGreaterThan(0)
    for (let step = 1; step <= 5000; step++) expect(idSequence(newId())).toBe(first + step)
  })

  it('is -1 for ids from elsewhere, and for a counter part that is not lower-case base 36', () => {
    const prefix = newId().slice(0, 12) // 12 base64url characters, which may include '-'
    for (const foreign of [
      '',
      'abc',
      'x'.repeat(20),
      `${prefix}-`,
      `${prefix}-A1`,
      `${prefix}-1_`,
      `${prefix}-1:`,
    ])
      expect(idSequence(foreign), foreign).toBe(-1)
    expect(idSequence(`${prefix}-zz`)).toBe(35 * 36 + 35)
  })
})
