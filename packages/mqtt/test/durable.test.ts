import { connectAsync } from 'mqtt'
import { afterEach, describe, expect, it } from 'vitest'
import { createTopicScheme } from '../src/index.js'
import { ledgerService, orderPlaced, type Seen } from './fixtures.js'
import { lossReports, recordLogs } from './support/observed.js'
import { BROKER_URL, MqttWorld } from './support.js'

let world: MqttWorld
afterEach(async () => {
  await world.close()
}, 20_000)

const LEDGER_GROUP = 'ledger.v1.book'
const booked = (seen: Seen[]) => [...new Set(seen.map((entry) => entry.orderId))].sort((a, b) => a - b)

describe('durable subscriptions over MQTT', { timeout: 20_000 }, () => {
  it('retries a failing handler with its attempt count, then dead-letters after maxAttempts', async () => {
    world = new MqttWorld()
    const seen: Seen[] = []
    const bridge = await world.bridge()
    await world.run(
      ledgerService('A', seen, async (orderId, attempt) => {
        if (orderId === 1 && attempt < 3) throw new Error('not yet')
        if (orderId === 2) throw new Error('never')
      }),
      bridge,
    )
    const emitter = await world.bridge()
    await emitter.emit(orderPlaced, { orderId: 1 })
    await emitter.emit(orderPlaced, { orderId: 2 })
    await expect
      .poll(() => seen.filter((entry) => entry.orderId === 1).map((entry) => entry.attempt), {
        timeout: 5_000,
      })
      .toEqual([1, 2, 3])
    await expect
      .poll(async () => (await bridge.readDeadLetters(LEDGER_GROUP)).map((letter) => letter.payload), {
        timeout: 5_000,
      })
      .toEqual([{ orderId: 2 }])
    expect(seen.filter((entry) => entry.orderId === 2).map((entry) => entry.attempt)).toEqual([1, 2, 3])
  })

  it('keeps events emitted while no instance runs and delivers them to the next one', async () => {
    world = new MqttWorld()
    const seen: Seen[] = []
    const first = await world.bridge()
    const instance = await world.run(ledgerService('A', seen), first)
    await instance.stop()
    await first.stop()
    const emitter = await world.bridge()
    for (let orderId = 1; orderId <= 5; orderId++) await emitter.emit(orderPlaced, { orderId })
    const logs = recordLogs()
    await world.run(ledgerService('B', seen), await world.bridge({ logger: logs.logger }))
    await expect.poll(() => booked(seen), { timeout: 10_000 }).toEqual([1, 2, 3, 4, 5])
    expect(seen.every((entry) => entry.instance === 'B')).toBe(true)
    // The adopter counts packet identifiers from its first message: no false gap.
    expect(lossReports(logs)).toEqual([])
  })

  it('shares the work between members, and a stopping member hands its queue over', async () => {
    world = new MqttWorld()
    const seen: Seen[] = []
    const a = await world.run(ledgerService('A', seen), await world.bridge())
    const logs = recordLogs()
    await world.run(ledgerService('B', seen), await world.bridge({ logger: logs.logger }))
    const emitter = await world.bridge()
    for (let orderId = 1; orderId <= 30; orderId++) await emitter.emit(orderPlaced, { orderId })
    await expect.poll(() => booked(seen).length, { timeout: 10_000 }).toBe(30)
    expect(seen.filter((entry) => entry.instance === 'A').length).toBeGreaterThan(0)
    expect(seen.filter((entry) => entry.instance === 'B').length).toBeGreaterThan(0)
    await a.stop()
    // A's session keeps its share of the shared subscription until B adopts and drains it.
    for (let orderId = 31; orderId <= 60; orderId++) await emitter.emit(orderPlaced, { orderId })
    await expect.poll(() => booked(seen).length, { timeout: 15_000 }).toBe(60)
    expect(seen.filter((entry) => entry.orderId > 30).every((entry) => entry.instance === 'B')).toBe(true)
    expect(lossReports(logs)).toEqual([])
  })

  it('dead-letters a malformed message at once, readable back and with mosquitto tools', async () => {
    world = new MqttWorld()
    const seen: Seen[] = []
    const bridge = await world.bridge()
    await world.run(ledgerService('A', seen), bridge)
    const raw = await connectAsync(BROKER_URL, {
      protocolVersion: 5,
      clientId: `conduit-test-raw-${Date.now()}`,
    })
    await raw.publishAsync(createTopicScheme(world.prefix).event('shop.order.placed'), 'not json at all', {
      qos: 1,
    })
    // readDeadLetters drops what has no envelope; the raw bytes stay on the dead-letter topic.
    const letters: string[] = []
    raw.on('message', (_topic, payload) => letters.push(payload.toString()))
    await expect
      .poll(
        async () => {
          await raw.subscribeAsync(`${world.prefix}/dead-letter/${LEDGER_GROUP}/+`, { qos: 1 })
          return letters
        },
        { timeout: 5_000 },
      )
      .toContain('not json at all')
    await raw.endAsync()
    expect(await bridge.readDeadLetters(LEDGER_GROUP)).toEqual([])
    expect(seen).toEqual([])
  })
})
