import { describe, expect, it } from 'vitest'
import {
  commandKey,
  commandKeyOfPath,
  commandMethod,
  deadLetterTopic,
  eventNameOfTopic,
  eventRoute,
  eventTopic,
  topicOfEventRoute,
} from './routes.js'

describe('Dapr names', () => {
  const address = { service: 'user', version: '1', command: 'registerNewUser' }

  it('maps a command to its invocation method and back', () => {
    expect(commandMethod(address)).toBe('conduit/command/user/1/registerNewUser')
    expect(commandKey(address)).toBe('user/1/registerNewUser')
    expect(commandKeyOfPath(`/${commandMethod(address)}`)).toBe('user/1/registerNewUser')
    expect(commandKeyOfPath('/dapr/subscribe')).toBeUndefined()
  })

  it('maps events to topics and routes, and topics back to event names', () => {
    expect(eventTopic('', 'user.registered')).toBe('user.registered')
    expect(eventTopic('staging.', 'user.registered')).toBe('staging.user.registered')
    expect(eventNameOfTopic('staging.', 'staging.user.registered')).toBe('user.registered')
    expect(eventNameOfTopic('staging.', 'prod.user.registered')).toBeUndefined()
    expect(eventRoute('staging.user.registered')).toBe('/conduit/event/staging.user.registered')
    expect(topicOfEventRoute('/conduit/event/staging.user.registered')).toBe('staging.user.registered')
    expect(deadLetterTopic('staging.', 'email.v1.sendWelcomeMail')).toBe(
      'staging.dead-letter.email.v1.sendWelcomeMail',
    )
  })
})
