import { describe, expect, it } from 'vitest'
import { escapeName, InvalidSubjectNameError, NatsSubjects, subjectMatches } from './subjects.js'

describe('escapeName', () => {
  it('keeps plain names and turns dots into ~ so group names stay readable', () => {
    expect(escapeName('email')).toBe('email')
    expect(escapeName('email.v1.sendWelcomeMail')).toBe('email~v1~sendWelcomeMail')
  })

  it('escapes everything a subject token or stream name cannot hold, injectively', () => {
    expect(escapeName('a b')).toBe('a=20b')
    expect(escapeName('a*>/')).toBe('a=2A=3E=2F')
    expect(escapeName('é')).toBe('=C3=A9')
    expect(escapeName('')).toBe('=')
    // '~' and '=' only ever come from escaping
    expect(escapeName('a~b')).toBe('a=7Eb')
    expect(escapeName('a=b')).toBe('a=3Db')
    const inputs = ['a.b', 'a~b', 'a=7Eb', 'a_b', 'a-b', 'a=2Eb', 'a b', '']
    expect(new Set(inputs.map(escapeName)).size).toBe(inputs.length)
  })
})

describe('NatsSubjects', () => {
  const subjects = new NatsSubjects('app')

  it('maps commands to one subject each and a queue group per service version', () => {
    const address = { service: 'user', version: '1', command: 'registerNewUser' }
    expect(subjects.command(address)).toBe('app.cmd.user.v1.registerNewUser')
    expect(subjects.commandQueue(address)).toBe('user.v1')
  })

  it('rejects names NATS cannot carry with a clear 400', () => {
    const bad = { service: 'us er', version: '1', command: 'x' }
    expect(() => subjects.command(bad)).toThrow(InvalidSubjectNameError)
    expect(() => subjects.command(bad)).toThrow(/service "us er" cannot be used on NATS/)
    expect(() => subjects.command({ service: 'a', version: '1', command: 'b.c' })).toThrow(/command "b.c"/)
    expect(() => subjects.event('user.*')).toThrow(/Invalid event name/)
  })

  it('maps events and patterns: `*` stays, a final `#` becomes `>`', () => {
    expect(subjects.event('user.registered')).toBe('app.evt.user.registered')
    expect(subjects.eventFilter('user.*')).toBe('app.evt.user.*')
    expect(subjects.eventFilter('user.#')).toBe('app.evt.user.>')
    expect(subjects.eventFilter('#')).toBe('app.evt.>')
  })

  it('names streams, dead letters and inboxes under the prefix', () => {
    const dotted = new NatsSubjects('team.app')
    expect(dotted.eventStream).toBe('team~app_events')
    expect(dotted.deadLetterStream).toBe('team~app_dead_letters')
    expect(dotted.allEvents).toBe('team.app.evt.>')
    expect(dotted.deadLetter('email.v1.sendWelcomeMail')).toBe('team.app.dlq.email~v1~sendWelcomeMail')
    expect(dotted.replyInbox('instance 1')).toBe('team.app.reply.instance=201')
  })

  it('accepts only literal reply subjects inside the prefix reply namespace', () => {
    const inbox = subjects.replyInbox('instance-1')
    expect(subjects.refuseReplySubject(`${inbox}.AbC_d-9-1z`)).toBeUndefined()
    expect(subjects.refuseReplySubject('app.reply._INBOX.nuid.7')).toBeUndefined() // nats.js inboxPrefix
    for (const hostile of [
      'elsewhere.inbox.x',
      'app.cmd.shop.v1.placeOrder',
      '$JS.API.STREAM.DELETE.app_events',
      'app.replyx.a',
      'app.reply',
    ]) {
      expect(subjects.refuseReplySubject(hostile), hostile).toMatch(/outside app\.reply\.>/)
    }
    for (const illegal of [
      `${inbox}.*`,
      `${inbox}.>`,
      'app.reply.a b',
      'app.reply.a..b',
      'app.reply.a.',
      'app.reply.a\tb',
      'app.reply.',
    ]) {
      expect(subjects.refuseReplySubject(illegal), illegal).toMatch(/not a literal NATS subject/)
    }
  })

  it('refuses a prefix that is not a subject', () => {
    expect(() => new NatsSubjects('a..b')).toThrow(/Invalid NATS prefix/)
    expect(() => new NatsSubjects('a.>')).toThrow(/Invalid NATS prefix/)
  })
})

describe('subjectMatches', () => {
  it('follows NATS wildcard rules', () => {
    expect(subjectMatches('a.b', 'a.b')).toBe(true)
    expect(subjectMatches('a.*', 'a.b')).toBe(true)
    expect(subjectMatches('a.*', 'a.b.c')).toBe(false)
    expect(subjectMatches('a.>', 'a.b.c')).toBe(true)
    expect(subjectMatches('a.>', 'a')).toBe(false)
    expect(subjectMatches('a.*.c', 'a.b.c')).toBe(true)
    expect(subjectMatches('a.*.c', 'a.b.d')).toBe(false)
    expect(subjectMatches('a.b', 'a.b.c')).toBe(false)
  })
})
