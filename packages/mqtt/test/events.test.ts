import { afterEach, describe, expect, it } from 'vitest'
import {
  auditOrder,
  auditV1,
  billingV1,
  billOrder,
  cacheV1,
  everyCache,
  orderCancelled,
  orderPlaced,
  recorderService,
  type Seen,
  watchService,
} from './fixtures.js'
import { MqttWorld } from './support.js'

let world: MqttWorld
afterEach(async () => {
  await world.close()
}, 20_000)

const ids = (seen: Seen[], handler: string) =>
  seen
    .filter((entry) => entry.handler === handler)
    .map((entry) => entry.orderId)
    .sort((a, b) => a - b)

describe('at-most-once subscriptions over MQTT', { timeout: 20_000 }, () => {
  it('fan-out to every group, one instance per group, every instance with everyInstance', async () => {
    world = new MqttWorld()
    const seen: Seen[] = []
    for (const instance of ['A', 'B']) {
      const bridge = await world.bridge()
      await world.run(recorderService(billingV1, billOrder, instance, seen), bridge)
      await world.run(recorderService(auditV1, auditOrder, instance, seen), bridge)
      await world.run(
        recorderService(cacheV1 as typeof billingV1, everyCache as typeof billOrder, instance, seen),
        bridge,
      )
    }
    const emitter = await world.bridge()
    const orders = Array.from({ length: 40 }, (_, i) => i)
    for (const orderId of orders) await emitter.emit(orderPlaced, { orderId })
    await expect.poll(() => ids(seen, 'billOrder'), { timeout: 5_000 }).toEqual(orders)
    await expect.poll(() => ids(seen, 'auditOrder'), { timeout: 5_000 }).toEqual(orders)
    await expect.poll(() => ids(seen, 'invalidate').length, { timeout: 5_000 }).toBe(80)
    const billedByA = seen.filter((entry) => entry.handler === 'billOrder' && entry.instance === 'A').length
    expect(billedByA).toBeGreaterThan(0)
    expect(billedByA).toBeLessThan(40)
    for (const instance of ['A', 'B']) {
      expect(
        seen.filter((entry) => entry.handler === 'invalidate' && entry.instance === instance),
      ).toHaveLength(40)
    }
  })

  it('wildcards: `*` is one segment, a final `#` is one or more', async () => {
    world = new MqttWorld()
    const seen: Seen[] = []
    await world.run(watchService('A', seen), await world.bridge())
    const emitter = await world.bridge()
    await emitter.emit(orderPlaced, { orderId: 1 })
    await emitter.emit(orderCancelled, { orderId: 2 })
    await emitter.emit('shop.order.placed.late', { orderId: 3 })
    await emitter.emit('shop', { orderId: 4 }) // MQTT's `shop/#` matches `shop` itself; Conduit's `shop.#` does not
    await emitter.emit('other.order.placed', { orderId: 5 })
    await expect.poll(() => ids(seen, 'manyLevels'), { timeout: 5_000 }).toEqual([1, 2, 3])
    await expect.poll(() => ids(seen, 'oneLevel'), { timeout: 5_000 }).toEqual([1, 2])
    // Ordered per publisher: once a later event is in, the earlier non-matching ones were dropped.
    await emitter.emit(orderPlaced, { orderId: 6 })
    await expect.poll(() => ids(seen, 'manyLevels'), { timeout: 5_000 }).toEqual([1, 2, 3, 6])
    expect(ids(seen, 'oneLevel')).toEqual([1, 2, 6])
  })
})
