import * as conventions from '@opentelemetry/semantic-conventions/incubating'
import { describe, expect, it } from 'vitest'
import * as ours from './semconv.js'

describe('semantic-convention names', () => {
  it('every name Conduit writes is the one @opentelemetry/semantic-conventions exports', () => {
    const names = Object.entries(ours).filter(([, value]) => typeof value === 'string')
    expect(names.length).toBeGreaterThan(15)
    const published: Record<string, unknown> = { ...conventions }
    for (const [name, value] of names) expect(published[name], name).toBe(value)
  })

  it('the AMQP bridge reports the well-known value rabbitmq; others keep their names', () => {
    expect(ours.messagingSystemOf('amqp')).toBe(conventions.MESSAGING_SYSTEM_VALUE_RABBITMQ)
    expect(ours.messagingSystemOf('nats')).toBe('nats')
  })
})
