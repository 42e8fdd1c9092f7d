import { createDefaultLogger } from '@conduit/core'
import type { IPublishPacket } from 'mqtt'
import { describe, expect, it } from 'vitest'
import type { MqttConnection } from './MqttConnection.js'
import { MAX_CORRELATION_DATA_BYTES, replyRoute } from './replies.js'
import { createTopicScheme } from './topics.js'

const topics = createTopicScheme('app')
const logger = createDefaultLogger()
const noConnection = (): MqttConnection => {
  throw new Error('a refused route never publishes')
}

function command(properties: IPublishPacket['properties']): IPublishPacket {
  return {
    cmd: 'publish',
    topic: 'app/cmd/s/1/c',
    payload: Buffer.from('{}'),
    qos: 0,
    dup: false,
    retain: false,
    properties,
  }
}

describe('the reply route of a received command', () => {
  it('refuses a response topic with a wildcard or outside the reply namespace, naming why', () => {
    expect(replyRoute(command({ responseTopic: 'x/+/y' }), topics, noConnection, logger)).toEqual({
      refused: expect.stringMatching(/'\+', illegal in a topic name/),
    })
    expect(replyRoute(command({ responseTopic: 'app/event/a' }), topics, noConnection, logger)).toEqual({
      refused: expect.stringMatching(/outside this bridge's reply namespace/),
    })
  })

  it('refuses correlation data too large to echo within the packet overhead', () => {
    const correlationData = Buffer.alloc(MAX_CORRELATION_DATA_BYTES + 1)
    const route = replyRoute(
      command({ responseTopic: 'app/reply/a', correlationData }),
      topics,
      noConnection,
      logger,
    )
    expect(route).toEqual({ refused: expect.stringMatching(/correlation data of 1025 bytes/) })
  })

  it('answers a valid response topic, and runs a command without one (fire-and-forget)', () => {
    expect(typeof replyRoute(command({ responseTopic: 'app/reply/a' }), topics, noConnection, logger)).toBe(
      'function',
    )
    expect(typeof replyRoute(command({}), topics, noConnection, logger)).toBe('function')
  })
})
