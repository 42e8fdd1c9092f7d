import { describe, expect, it } from 'vitest'
import { NatsBridge, NatsSubjects } from '../src/index.js'

describe('NatsBridge.destinationName', () => {
  it('names the real subjects, before connecting', () => {
    const bridge = new NatsBridge({ prefix: 'shop_prod' })
    const subjects = new NatsSubjects('shop_prod')
    const address = { service: 'order', version: '2', command: 'place' }
    expect(bridge.destinationName({ kind: 'command', address })).toBe(subjects.command(address))
    expect(bridge.destinationName({ kind: 'event', eventName: 'order.placed' })).toBe(
      subjects.event('order.placed'),
    )
    expect(bridge.destinationName({ kind: 'event', eventName: 'order.placed' })).not.toBe('order.placed')
  })
})
