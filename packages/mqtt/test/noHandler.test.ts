import { isConduitError } from '@conduit/core'
import { connectAsync } from 'mqtt'
import { afterEach, describe, expect, it } from 'vitest'
import { createTopicScheme } from '../src/index.js'
import { placeOrder, refuse, shopService } from './fixtures.js'
import { BROKER_URL, MqttWorld } from './support.js'

let world: MqttWorld
afterEach(async () => {
  await world.close()
}, 20_000)

const NO_MATCHING_SUBSCRIBERS = 0x10

/** The reason code of the broker's PUBACK for one QoS 1 publish, read off the wire by a raw client. */
async function pubackReason(topic: string): Promise<number> {
  const raw = await connectAsync(BROKER_URL, {
    protocolVersion: 5,
    clientId: `conduit-test-raw-${Date.now()}`,
  })
  try {
    const reasons = new Map<number, number>()
    raw.on('packetreceive', (packet) => {
      if (packet.cmd === 'puback' && packet.messageId !== undefined)
        reasons.set(packet.messageId, packet.reasonCode ?? 0)
    })
    const sent = await raw.publishAsync(topic, '{}', { qos: 1 })
    return reasons.get(sent?.messageId ?? -1) ?? -1
  } finally {
    await raw.endAsync()
  }
}

describe('a command nobody serves over MQTT', { timeout: 20_000 }, () => {
  it('the broker answers a QoS 1 command that reaches no subscriber with PUBACK 0x10, and 0 once served', async () => {
    world = new MqttWorld()
    const topic = createTopicScheme(world.prefix).command({
      service: 'shop',
      version: '1',
      command: 'refuse',
    })
    expect(await pubackReason(topic)).toBe(NO_MATCHING_SUBSCRIBERS)
    await world.run(shopService('A'), await world.bridge())
    expect(await pubackReason(topic)).toBe(0)
  })

  it('commandQos 1: fails the call at once with 503 NO_HANDLER, and calls work once an instance serves it', async () => {
    world = new MqttWorld()
    const client = await world.bridge({ commandQos: 1 })
    expect(client.capabilities.noHandlerDetection.supported).toBe(true)
    const started = Date.now()
    const error = await client.invoke(refuse, {}, { timeout: 10_000 }).catch((caught: unknown) => caught)
    expect(isConduitError(error) && [error.status, error.code]).toEqual([503, 'NO_HANDLER'])
    expect(Date.now() - started).toBeLessThan(2_000)
    expect(client.pendingInvocations).toBe(0)
    await world.run(shopService('A'), await world.bridge({ commandQos: 1 }))
    await expect(client.invoke(placeOrder, { orderId: 7 })).resolves.toMatchObject({ orderId: 7 })
  })

  it('commandQos 0 (the default): no PUBACK to read, so the capability is declared missing with that reason', async () => {
    world = new MqttWorld()
    const client = await world.bridge()
    const declared = client.capabilities.noHandlerDetection
    expect(declared.supported).toBe(false)
    expect(declared.supported ? '' : declared.reason).toMatch(/QoS 0.*commandQos: 1.*0x10/)
    const error = await client.invoke(refuse, {}, { timeout: 300 }).catch((caught: unknown) => caught)
    expect(isConduitError(error) && error.status).toBe(504)
  })
})
