import { compileEventPattern } from '@conduit/core'
import type { Message } from 'amqplib'
import { describe, expect, it } from 'vitest'
import { AmqpTopology, ATTEMPT_HEADER, attemptOf, bindingKeyFor, replyToProblem } from './topology.js'

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

describe('replyToProblem', () => {
  it('accepts the direct reply-to names RabbitMQ hands out', () => {
    expect(
      replyToProblem(
        'amq.rabbitmq.reply-to.g1h2AA1yZXBseUA5MjQ4ODg0AAAcKgAAAABrEDPm.AGbXkuWpVUOT7+A0YCdWaw==',
      ),
    ).toBeUndefined()
  })

  it('refuses other queues, lookalikes, wildcards and over-long names, with a reason', () => {
    for (const replyTo of [
      'shop.cmd.user.v1.registerNewUser',
      'amq.rabbitmq.reply-to',
      'amq.rabbitmq.reply-tox',
      'amq.rabbitmq.reply-to.a b',
      'amq.rabbitmq.reply-to.#',
      `amq.rabbitmq.reply-to.${'a'.repeat(234)}`,
    ]) {
      expect(replyToProblem(replyTo), replyTo).toMatch(/not a direct reply-to name/)
    }
  })
})

describe('attemptOf', () => {
  const delivery = (headers: Record<string, unknown>, redelivered = false): Message =>
    ({ properties: { headers }, fields: { redelivered } }) as unknown as Message

  it('reads the retry header, counts a redelivery, and ignores headers that are no count', () => {
    expect(attemptOf(delivery({}))).toBe(1)
    expect(attemptOf(delivery({ [ATTEMPT_HEADER]: 3 }))).toBe(3)
    expect(attemptOf(delivery({ [ATTEMPT_HEADER]: 3 }, true))).toBe(4)
    expect(attemptOf(delivery({ [ATTEMPT_HEADER]: 'many' }))).toBe(1)
    expect(attemptOf(delivery({ [ATTEMPT_HEADER]: -2 }))).toBe(1)
  })
})
