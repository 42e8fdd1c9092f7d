import { describe, expect, it } from 'vitest'
import { decodeKey, encodeKey } from './kv/keyEncoding.js'

const VALID_KV_KEY = /^[-/_=A-Za-z0-9]+$/

describe('KV key encoding', () => {
  const keys = ['user:42', 'a.b', '.hidden.', 'ünï cødé 🚀', '=', '', 'plain/path_with-dash', '%41']

  it('turns any string into a valid KV key and back', () => {
    for (const key of keys) {
      const encoded = encodeKey(key)
      expect(encoded).toMatch(VALID_KV_KEY)
      expect(decodeKey(encoded)).toBe(key)
    }
    expect(new Set(keys.map(encodeKey)).size).toBe(keys.length)
  })

  it('keeps prefixes, so keys(prefix) can compare encoded keys', () => {
    expect(encodeKey('user:42').startsWith(encodeKey('user:'))).toBe(true)
    expect(encodeKey('user.42').startsWith(encodeKey('user.'))).toBe(true)
  })
})
