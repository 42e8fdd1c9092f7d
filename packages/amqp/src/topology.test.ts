import { compileEventPattern } from '@conduit/core'
import { describe, expect, it } from 'vitest'
import { AmqpTopology, bindingKeyFor } from './topology.js'

/** AMQP topic matching, as RabbitMQ does it: `*` exactly one word, `#` zero or more words. */
function amqpMatches(binding: readonly string[], words: readonly string[]): boolean {
  const [head, ...rest] = binding
  if (head === undefined) return words.length === 0
  if (head === '#')
    return amqpMatches(rest, words) || (words.length > 0 && amqpMatches(binding, words.slice(1)))
  if (words.length === 0) return false
  return (head === '*' || head === words[0]) && amqpMatches(rest, words.slice(1))
}

describe('bindingKeyFor', () => {
  it('keeps exact names and `*`, and turns a final `#` (one or more) into `*.#`', () => {
    expect(bindingKeyFor('user.registered')).toBe('user.registered')
    expect(bindingKeyFor('user.*')).toBe('user.*')
    expect(bindingKeyFor('user.#')).toBe('user.*.#')
    expect(bindingKeyFor('#')).toBe('*.#')
  })

  it('routes exactly what core matches', () => {
    const patterns = ['a.b', 'a.*', '*.b', 'a.#', 'a.*.#', '#', '*', 'a.*.c']
    const names = ['a', 'b', 'a.b', 'a.c', 'x.b', 'a.b.c', 'a.b.c.d', 'ab', 'a.x.c']
    for (const pattern of patterns) {
      const core = compileEventPattern(pattern)
      for (const name of names) {
        expect(amqpMatches(bindingKeyFor(pattern).split('.'), name.split('.')), `${pattern} vs ${name}`).toBe(
          core(name),
        )
      }
    }
  })
})

describe('AmqpTopology', () => {
  it('derives every name from the prefix', () => {
    const topology = new AmqpTopology('shop')
    expect(topology.eventsExchange).toBe('shop.events')
    expect(topology.commandQueue({ service: 'user', version: '1', command: 'registerNewUser' })).toBe(
      'shop.cmd.user.v1.registerNewUser',
    )
    expect(topology.commandDeadLetterQueue).toBe('shop.cmd.dead')
    expect(topology.eventQueue('email.v1.sendWelcomeMail')).toBe('shop.evt.email.v1.sendWelcomeMail')
    expect(topology.retryQueue('email.v1.sendWelcomeMail', 200)).toBe(
      'shop.evt.email.v1.sendWelcomeMail.retry.200',
    )
    expect(topology.deadLetterQueue('email.v1.sendWelcomeMail')).toBe(
      'shop.evt.email.v1.sendWelcomeMail.dead',
    )
  })
})
