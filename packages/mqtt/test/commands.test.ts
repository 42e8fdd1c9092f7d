import { BridgeUnavailableError, isConduitError } from '@conduit/core'
import { afterEach, describe, expect, it } from 'vitest'
import { MqttBridge } from '../src/index.js'
import { placeOrder, refuse, shopService, slow } from './fixtures.js'
import { MqttWorld } from './support.js'

let world: MqttWorld
afterEach(async () => {
  await world.close()
}, 20_000)

async function failure(promise: Promise<unknown>): Promise<Record<string, any>> {
  try {
    await promise
  } catch (error) {
    expect(isConduitError(error)).toBe(true)
    return error as Record<string, any>
  }
  throw new Error('expected a failure')
}

describe.each([0, 1] as const)('commands over MQTT at QoS %i', { timeout: 20_000 }, (commandQos) => {
  it('round trip, errors and timeouts between two bridges', async () => {
    world = new MqttWorld()
    const server = await world.bridge({ commandQos })
    await world.run(shopService('A'), server)
    const client = await world.bridge({ commandQos })
    await expect(client.invoke(placeOrder, { orderId: 1 })).resolves.toEqual({ orderId: 1, handledBy: 'A' })
    const refused = await failure(client.invoke(refuse, {}))
    expect([refused.status, refused.message, refused.data]).toEqual([
      409,
      'Refused on purpose',
      { why: 'test' },
    ])
    const late = await failure(client.invoke(slow, { ms: 5_000 }, { timeout: 200 }))
    expect(late.status).toBe(504)
    expect(client.pendingInvocations).toBe(0)
  })

  it('competing instances: each invocation handled exactly once', async () => {
    world = new MqttWorld()
    const handled: number[] = []
    await world.run(shopService('A', handled), await world.bridge({ commandQos }))
    await world.run(shopService('B', handled), await world.bridge({ commandQos }))
    const client = await world.bridge({ commandQos })
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => client.invoke(placeOrder, { orderId: i })),
    )
    expect(results.map((result) => result.orderId)).toEqual(Array.from({ length: 100 }, (_, i) => i))
    expect(handled.sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i))
    const byA = results.filter((result) => result.handledBy === 'A').length
    expect(byA).toBeGreaterThan(0)
    expect(byA).toBeLessThan(100)
  })
})

describe('two instances of a service in one bridge', { timeout: 20_000 }, () => {
  it('share one subscription and take turns', async () => {
    world = new MqttWorld()
    const handled: number[] = []
    const server = await world.bridge()
    await world.run(shopService('A', handled), server)
    await world.run(shopService('B', handled), server)
    const client = await world.bridge()
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => client.invoke(placeOrder, { orderId: i })),
    )
    expect(handled.sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i))
    expect(new Set(results.map((result) => result.handledBy))).toEqual(new Set(['A', 'B']))
  })
})

describe('MqttBridge limits and validation', { timeout: 20_000 }, () => {
  it('refuses MQTT 3.1.1 at construction with a clear error', () => {
    expect(() => new MqttBridge({ mqtt: { protocolVersion: 4 } })).toThrow(
      /protocolVersion 4 \(MQTT 3\.1\.1\) is not supported.*MQTT 5/,
    )
  })

  it('rejects names that are not MQTT topic levels with a 400', async () => {
    world = new MqttWorld()
    const client = await world.bridge()
    for (const bad of ['a+b', 'a#b', 'a/b', 'a\0b']) {
      const error = await failure(
        client.invokeAddress({ service: bad, version: '1', command: 'x' }, {}, { timeout: 500 }),
      )
      expect(error.status).toBe(400)
      expect(error.code).toBe('INVALID_TOPIC')
      expect(error.message).toMatch(/not allowed/)
    }
    const emitted = await failure(client.emit('shop.+.placed', {}))
    expect(emitted.code).toBe('INVALID_TOPIC')
  })

  it('enforces the declared payload limit with a 413 before publishing', async () => {
    world = new MqttWorld()
    const server = await world.bridge({ maxPayloadBytes: 20_000 })
    await world.run(shopService('A'), server)
    const client = await world.bridge({ maxPayloadBytes: 20_000 })
    expect(client.capabilities.maxPayloadBytes).toBe(20_000)
    const tooBig = await failure(client.invoke(placeOrder, { orderId: 1, note: 'x'.repeat(25_000) }))
    expect(tooBig.status).toBe(413)
    // The limit is the sender's: a bridge configured with more room gets the same call through.
    const roomy = await world.bridge({ maxPayloadBytes: 100_000 })
    const ok = await roomy.invoke(placeOrder, { orderId: 2, note: 'y'.repeat(19_000) })
    expect(ok.handledBy).toBe('A:19000')
  })

  it('fails start() with a 503 when the broker is unreachable, and reports not ready', async () => {
    world = new MqttWorld()
    const bridge = world.unstartedBridge({ url: 'mqtt://127.0.0.1:1', connectTimeout: 1_000 })
    expect(bridge.isReady()).toBe(false)
    await expect(bridge.start()).rejects.toBeInstanceOf(BridgeUnavailableError)
    expect(bridge.isReady()).toBe(false)
  })
})
