import { BridgeUnavailableError } from '@conduit/core'
import { describe, expect, it } from 'vitest'
import { AmqpBridge, DEFAULT_AMQP_URL } from '../src/index.js'
import { resolveAmqpOptions } from '../src/options.js'
import { deleteDeclaredTopology, uniquePrefix } from '../src/testing.js'

const url = process.env.CONDUIT_AMQP_URL ?? DEFAULT_AMQP_URL

describe('AmqpBridge lifecycle', () => {
  it('defaults to the local broker with guest/guest and the `conduit` prefix', () => {
    expect(resolveAmqpOptions({})).toMatchObject({
      url: 'amqp://guest:guest@127.0.0.1:5672',
      prefix: 'conduit',
      prefetch: 100,
    })
    expect(new AmqpBridge().name).toBe('amqp')
  })

  it('refuses options that cannot work', () => {
    expect(() => new AmqpBridge({ prefix: 'has space' })).toThrow(/prefix/)
    expect(() => new AmqpBridge({ prefetch: 0 })).toThrow(/prefetch/)
  })

  it('start() against an unreachable broker fails fast with BridgeUnavailableError, password redacted', async () => {
    const bridge = new AmqpBridge({ url: 'amqp://guest:s3cret@127.0.0.1:1', prefix: uniquePrefix() })
    const error = await bridge.start().then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(BridgeUnavailableError)
    expect((error as Error).message).toContain('127.0.0.1:1')
    expect((error as Error).message).not.toContain('s3cret')
    expect(bridge.isReady()).toBe(false)
    expect(bridge.isHealthy()).toBe(false)
  })

  it('reports ready and healthy while connected, neither after stop()', { timeout: 20_000 }, async () => {
    const prefix = uniquePrefix()
    const bridge = new AmqpBridge({ url, prefix })
    await bridge.start()
    expect(bridge.isReady()).toBe(true)
    expect(bridge.isHealthy()).toBe(true)
    expect([...bridge.declaredTopology.exchanges]).toEqual([`${prefix}.events`])
    await bridge.stop()
    expect(bridge.isReady()).toBe(false)
    expect(bridge.isHealthy()).toBe(false)
    await deleteDeclaredTopology([bridge.declaredTopology], url)
  })
})
