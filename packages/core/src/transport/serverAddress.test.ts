import { describe, expect, it } from 'vitest'
import { serverAddressOf } from './serverAddress.js'

describe('serverAddressOf', () => {
  it('reads host and port from broker URLs, with the protocol default port, never credentials', () => {
    expect(serverAddressOf('nats://127.0.0.1:4222', 4222)).toEqual({ address: '127.0.0.1', port: 4222 })
    expect(serverAddressOf('amqp://guest:secret@rabbit.internal', 5672)).toEqual({
      address: 'rabbit.internal',
      port: 5672,
    })
    expect(serverAddressOf('localhost:1884', 1883)).toEqual({ address: 'localhost', port: 1884 })
    expect(serverAddressOf('mqtt://[::1]:1883', 1883)).toEqual({ address: '::1', port: 1883 })
    expect(serverAddressOf('not a url at all', 1)).toBeUndefined()
  })
})
