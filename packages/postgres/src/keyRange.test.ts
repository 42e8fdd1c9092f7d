import { describe, expect, it } from 'vitest'
import { prefixUpperBound, storableInText } from './keyRange.js'

const byCodePoint = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b))

describe('prefixUpperBound', () => {
  it('increments the last code point', () => {
    expect(prefixUpperBound('user:')).toBe('user;')
    expect(prefixUpperBound('a%')).toBe('a&')
    expect(prefixUpperBound('日本')).toBe('日札')
  })

  it('steps over the surrogate range and carries past U+10FFFF', () => {
    expect(prefixUpperBound('a\ud7ff')).toBe('a\ue000')
    expect(prefixUpperBound('a\u{10ffff}')).toBe('b')
    expect(prefixUpperBound('\u{10ffff}\u{10ffff}')).toBeUndefined()
    expect(prefixUpperBound('🎉')).toBe('🎊')
  })

  it('bounds exactly the keys that start with the prefix, in UTF-8 byte order', () => {
    const prefix = 'k\u00ff'
    const bound = prefixUpperBound(prefix) ?? ''
    const candidates = ['k\u00ff', 'k\u00ffz', 'k\u00ff\u{10ffff}', 'k\u0100', 'k\u00fe\u{10ffff}', 'l', 'k']
    for (const key of candidates) {
      const inRange = byCodePoint(key, prefix) >= 0 && byCodePoint(key, bound) < 0
      expect(inRange, key).toBe(key.startsWith(prefix))
    }
  })
})

describe('storableInText', () => {
  it('refuses NUL and lone surrogates, takes paired ones', () => {
    expect(storableInText('a\u0000b')).toBe(false)
    expect(storableInText('a\ud800')).toBe(false)
    expect(storableInText('🎉 日本 \t\n')).toBe(true)
  })
})
