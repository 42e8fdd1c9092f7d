import { describe, expect, it } from 'vitest'
import { assertPrefix, createTopicScheme, InvalidTopicError, sharedFilter } from './topics.js'

describe('the MQTT topic scheme', () => {
  const topics = createTopicScheme('app/prod')

  it('maps commands, replies and events under the prefix', () => {
    const address = { service: 'user', version: '1', command: 'registerNewUser' }
    expect(topics.command(address)).toBe('app/prod/cmd/user/1/registerNewUser')
    expect(topics.commandFilter(address)).toBe(
      '$share/user.v1.registerNewUser/app/prod/cmd/user/1/registerNewUser',
    )
    expect(topics.reply('4f2c')).toBe('app/prod/reply/4f2c')
    expect(topics.event('user.registered')).toBe('app/prod/event/user/registered')
    expect(topics.deadLetter('email.v1.sendWelcomeMail', 'm1')).toBe(
      'app/prod/dead-letter/email.v1.sendWelcomeMail/m1',
    )
    expect(sharedFilter('email.v1.sendWelcomeMail', topics.event('user.registered'))).toBe(
      '$share/email.v1.sendWelcomeMail/app/prod/event/user/registered',
    )
  })

  it('maps `*` to `+` and a final `#` to `#`', () => {
    expect(topics.eventFilter('user.*')).toBe('app/prod/event/user/+')
    expect(topics.eventFilter('*.registered')).toBe('app/prod/event/+/registered')
    expect(topics.eventFilter('user.#')).toBe('app/prod/event/user/#')
    expect(topics.eventFilter('#')).toBe('app/prod/event/#')
  })

  it('rejects names that are not MQTT topic levels, naming what is wrong', () => {
    const cases: [() => unknown, RegExp][] = [
      [() => topics.event('user.+'), /'\+' is not allowed/],
      [() => topics.event('user.#'), /'#' is not allowed/],
      [() => topics.event('user/registered'), /'\/' is not allowed/],
      [() => topics.event('user\0x'), /NUL is not allowed/],
      [() => topics.event('user..registered'), /it is empty/],
      [() => topics.command({ service: 'a+b', version: '1', command: 'c' }), /service name "a\+b"/],
      [() => sharedFilter('g/1', 'x'), /consumer group "g\/1"/],
    ]
    for (const [build, message] of cases) {
      expect(build).toThrow(InvalidTopicError)
      expect(build).toThrow(message)
    }
  })

  it('accepts a response topic only as one level in its own reply namespace', () => {
    expect(topics.replyTopicProblem('app/prod/reply/4f2c')).toBeUndefined()
    expect(topics.replyTopicProblem('app/prod/reply/mosquitto-rr-1')).toBeUndefined()
    const cases: [string, RegExp][] = [
      ['app/prod/reply/+', /'\+', illegal/],
      ['x/+/y', /'\+', illegal/],
      ['x/#', /'#', illegal/],
      ['app/prod/reply/a\0b', /NUL, illegal/],
      ['x/y', /outside this bridge's reply namespace app\/prod\/reply\/<id>/],
      ['app/other/reply/4f2c', /outside/],
      ['app/prod/reply/', /outside/],
      ['app/prod/reply/a/b', /outside/],
      ['app/prod/cmd/user/1/registerNewUser', /outside/],
      [`app/prod/reply/${'x'.repeat(2_000)}`, /longer than 1024 bytes/],
    ]
    for (const [topic, reason] of cases) expect(topics.replyTopicProblem(topic)).toMatch(reason)
  })

  it('refuses a prefix with wildcards, empty levels or a `$` system topic', () => {
    for (const prefix of ['a/+', 'a/#', 'a//b', '/a', '$SYS/x', ''])
      expect(() => assertPrefix(prefix)).toThrow(InvalidTopicError)
    expect(() => assertPrefix('tenant-1/conduit')).not.toThrow()
  })
})
