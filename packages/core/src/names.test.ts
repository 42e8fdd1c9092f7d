import { describe, expect, it } from 'vitest'
import { DefinitionError } from './errors/errors.js'
import { assertEventName, assertEventPattern, assertIdentifier, compileEventPattern } from './names.js'

describe('names and patterns', () => {
  it.each([
    ['user.registered', 'user.registered', true],
    ['user.registered', 'user.deleted', false],
    ['user.*', 'user.registered', true],
    ['user.*', 'user.registered.late', false],
    ['user.*', 'user', false],
    ['*.registered', 'user.registered', true],
    ['user.#', 'user.a.b.c', true],
    ['user.#', 'user.a', true],
    ['user.#', 'user', false],
    ['user.#', 'username.a', false],
  ])('%s matches %s: %s', (pattern, name, expected) => {
    expect(compileEventPattern(pattern)(name)).toBe(expected)
  })

  it.each(['user registered', 'user/registered', 'user.>', 'a..b', 'user+', ''])(
    'rejects event name %j',
    (name) => {
      expect(() => assertEventName(name)).toThrow(DefinitionError)
    },
  )

  it.each(['user.#.x', 'user.>', 'us*er', '#.user'])('rejects pattern %j', (pattern) => {
    expect(() => assertEventPattern(pattern)).toThrow(/Invalid event pattern/)
  })

  it('rejects identifiers brokers would misread, naming the kind', () => {
    expect(() => assertIdentifier('service', 'user.v1')).toThrow(/Invalid service name "user.v1"/)
    expect(() => assertIdentifier('command', '1st')).toThrow(DefinitionError)
    expect(() => assertIdentifier('command', 'registerNewUser')).not.toThrow()
  })
})
