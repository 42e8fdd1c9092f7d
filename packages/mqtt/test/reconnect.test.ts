import { BridgeUnavailableError } from '@conduit/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ledgerService, orderPlaced, placeOrder, type Seen, shopService } from './fixtures.js'
import { PrivateMosquitto } from './privateBroker.js'
import { lossReports, recordLogs } from './support/observed.js'
import { MqttWorld } from './support.js'

let broker: PrivateMosquitto
let world: MqttWorld
beforeAll(async () => {
  broker = await PrivateMosquitto.start()
  world = new MqttWorld(broker.url)
}, 20_000)
afterAll(async () => {
  await world.close()
  await broker.stop()
}, 20_000)

describe('a service whose connection is cut', { timeout: 30_000 }, () => {
  it('is ready again only once its subscriptions are back: the first call after that succeeds', async () => {
    const seen: Seen[] = []
    const server = await world.bridge()
    // Several subscriptions on the main connection (a command per definition, orphan markers),
    // so that restoring them takes more than one round trip.
    await world.run(shopService('A'), server)
    await world.run(ledgerService('L', seen), server)
    const client = await world.bridge()
    await expect(client.invoke(placeOrder, { orderId: 1 })).resolves.toMatchObject({ orderId: 1 })
    for (let round = 0; round < 3; round++) {
      const connection = server.client!
      const closed = new Promise<void>((resolve) => connection.once('close', () => resolve()))
      connection.stream.destroy()
      await closed
      expect(server.isReady()).toBe(false)
      await expect.poll(() => server.isReady(), { timeout: 10_000, interval: 1 }).toBe(true)
      await expect(
        client.invoke(placeOrder, { orderId: 10 + round }, { timeout: 3_000 }),
      ).resolves.toMatchObject({
        orderId: 10 + round,
      })
    }
  })
})

describe('broker restart', { timeout: 30_000 }, () => {
  it('reports not ready while down, fails calls within the bound, reconnects and resubscribes', async () => {
    const options = { publishTimeout: 500, mqtt: { reconnectPeriod: 200 } }
    const seen: Seen[] = []
    const logs = recordLogs()
    const server = await world.bridge({ ...options, logger: logs.logger })
    await world.run(shopService('A'), server)
    await world.run(ledgerService('L', seen), server)
    const client = await world.bridge(options)
    await expect(client.invoke(placeOrder, { orderId: 1 })).resolves.toMatchObject({ orderId: 1 })
    expect(client.isReady()).toBe(true)
    // This member's session has numbered messages before the broker dies (the group is shared
    // with the previous test's member, so emit until one reached it).
    let extra = 100
    await expect
      .poll(
        async () => {
          await client.emit(orderPlaced, { orderId: extra++ })
          return seen.length
        },
        { timeout: 5_000 },
      )
      .toBeGreaterThan(0)

    await broker.kill()
    await expect.poll(() => client.isReady() || server.isReady(), { timeout: 5_000 }).toBe(false)
    expect(client.isHealthy()).toBe(true) // still trying: not a reason to restart the process
    const started = Date.now()
    await expect(client.invoke(placeOrder, { orderId: 2 })).rejects.toBeInstanceOf(BridgeUnavailableError)
    await expect(client.emit(orderPlaced, { orderId: 3 })).rejects.toBeInstanceOf(BridgeUnavailableError)
    expect(Date.now() - started).toBeLessThan(3_000)

    await broker.restart()
    await expect.poll(() => client.isReady() && server.isReady(), { timeout: 10_000 }).toBe(true)
    // The broker kept nothing (no persistence): commands, replies and the durable
    // subscription all work again only because the bridges subscribed again by themselves.
    await expect(client.invoke(placeOrder, { orderId: 4 })).resolves.toMatchObject({ orderId: 4 })
    await expect.poll(() => seen.map((entry) => entry.orderId).includes(4), { timeout: 5_000 }).toBe(true)
    // The new session is numbered from 1 again: not a gap of 65,534 events.
    expect(lossReports(logs)).toEqual([])
  })
})
