import { describe, expect, it } from 'vitest'
import { escapeGlob, keyspace } from './keyspace.js'

describe('keyspace', () => {
  it('escapes every glob character of namespace and prefix, and nothing else', () => {
    expect(escapeGlob('a*b?c[d]e\\f^g-h:i')).toBe('a\\*b\\?c\\[d\\]e\\\\f^g-h:i')
    expect(keyspace('ns[1]').matching('user*')).toBe('ns\\[1\\]:user\\**')
    expect(keyspace('ns').matching('')).toBe('ns:*')
  })

  it('maps keys to `<namespace>:<key>` and back, colons in the key included', () => {
    const space = keyspace('billing')
    expect(space.toRedis('order:1')).toBe('billing:order:1')
    expect(space.fromRedis(space.toRedis('order:1'))).toBe('order:1')
  })
})
