import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inflate, placeOrder, shopService } from './fixtures.js'
import { PrivateMosquitto } from './privateBroker.js'
import { MqttWorld } from './support.js'

let broker: PrivateMosquitto
let world: MqttWorld
beforeAll(async () => {
  // A broker that announces a Maximum Packet Size in its CONNACK (Mosquitto's max_packet_size).
  broker = await PrivateMosquitto.start(['max_packet_size 16384'])
  world = new MqttWorld(broker.url)
}, 20_000)
afterAll(async () => {
  await world.close()
  await broker.stop()
}, 20_000)

describe('a broker with a smaller packet limit', { timeout: 20_000 }, () => {
  it('lowers the declared maxPayloadBytes to what the broker accepts and enforces it with a 413', async () => {
    const server = await world.bridge()
    await world.run(shopService('A'), server)
    const client = await world.bridge()
    const limit = client.capabilities.maxPayloadBytes
    expect(limit).toBeLessThan(16_384)
    expect(limit).toBeGreaterThan(8_000)
    await expect(
      client.invoke(placeOrder, { orderId: 1, note: 'x'.repeat(limit - 1_000) }),
    ).resolves.toMatchObject({
      orderId: 1,
    })
    await expect(client.invoke(placeOrder, { orderId: 2, note: 'x'.repeat(limit) })).rejects.toMatchObject({
      status: 413,
      code: 'PAYLOAD_TOO_LARGE',
    })
    expect(client.isReady()).toBe(true) // refused before publishing: the broker never saw it
  })

  it('answers a reply over the broker limit with a small 413 instead of publishing it (which would cost the connection)', async () => {
    const server = await world.bridge()
    await world.run(shopService('A'), server)
    const client = await world.bridge()
    let disconnects = 0
    server.client?.on('close', () => disconnects++)
    await expect(client.invoke(inflate, { bytes: 20_000 })).rejects.toMatchObject({
      status: 413,
      code: 'PAYLOAD_TOO_LARGE',
    })
    await expect(client.invoke(inflate, { bytes: 1_000 })).resolves.toMatchObject({ blob: 'x'.repeat(1_000) })
    expect(disconnects).toBe(0)
    expect(server.isReady()).toBe(true)
  })
})
