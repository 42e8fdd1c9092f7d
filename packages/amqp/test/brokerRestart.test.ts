import { PrivateRabbitNode } from '@conduit/bridge-conformance'
import {
  BridgeUnavailableError,
  createService,
  defineEvent,
  defineService,
  type EventBridge,
  handleCommand,
  handleSubscription,
} from '@conduit/core'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { z } from 'zod'
import { AmqpBridge } from '../src/index.js'
import { deleteDeclaredTopology, uniquePrefix } from '../src/testing.js'

// A second RabbitMQ node that this file starts, stops and starts again, so the shared broker on
// 5672 is never restarted under other tests.

const orderPlaced = defineEvent('restart.order.placed', z.object({ id: z.number().int() }))
const ledgerV1 = defineService({ name: 'restartLedger', version: '1' })
const record = ledgerV1.subscription('record', { event: orderPlaced, delivery: 'durable' })
const ping = ledgerV1.command('ping', { input: z.object({}), output: z.object({ ok: z.boolean() }) })

const unavailable = PrivateRabbitNode.unavailable()

async function untilReady(bridge: EventBridge, timeout: number): Promise<void> {
  await vi.waitFor(() => expect(bridge.isReady()).toBe(true), { timeout, interval: 50 })
}

describe.skipIf(unavailable !== undefined)(
  `broker restart (private RabbitMQ node)${unavailable ? `: ${unavailable}` : ''}`,
  () => {
    let node: PrivateRabbitNode
    const bridges: AmqpBridge[] = []
    const prefix = uniquePrefix('restart')

    beforeAll(async () => {
      node = await PrivateRabbitNode.start()
    }, 90_000)

    afterAll(async () => {
      await Promise.allSettled(bridges.map((bridge) => bridge.stop()))
      await deleteDeclaredTopology(
        bridges.map((bridge) => bridge.declaredTopology),
        node.url,
      ).catch(() => undefined)
      await node.dispose()
    }, 60_000)

    const bridge = (prefetch?: number): AmqpBridge => {
      const created = new AmqpBridge({
        url: node.url,
        prefix,
        reconnect: { initialMs: 50, maxMs: 500 },
        ...(prefetch === undefined ? {} : { prefetch }),
      })
      bridges.push(created)
      return created
    }

    it('durable events published around a broker outage are all delivered at least once', {
      timeout: 120_000,
    }, async () => {
      const deliveries = new Map<number, number>()
      // While the gate is shut, handlers hold their events: some sit unacked in flight and the
      // rest queue up in RabbitMQ, so the broker stops with both kinds on hand.
      let openGate: () => void = () => undefined
      let gate: Promise<void> = Promise.resolve()
      const ledger = createService(ledgerV1, {
        commands: [handleCommand(ping, () => ({ ok: true }))],
        subscriptions: [
          handleSubscription(record, async ({ id }) => {
            await gate
            deliveries.set(id, (deliveries.get(id) ?? 0) + 1)
          }),
        ],
      })
      const consumer = bridge(20)
      await consumer.start()
      await (await ledger.getInstance(consumer)).start()
      const publisher = bridge()
      await publisher.start()

      // Publishes ids 0, 1, 2, ... until 100 were confirmed after the restart. The application's
      // part of at-least-once: an emit that was not confirmed is emitted again.
      let published = 0
      let refused = 0
      let confirmedAfterRestart: number | undefined
      const publishing = (async () => {
        while (confirmedAfterRestart === undefined || confirmedAfterRestart < 100) {
          try {
            await publisher.emit(orderPlaced, { id: published })
            published++
            if (confirmedAfterRestart !== undefined) confirmedAfterRestart++
          } catch (error) {
            expect(error).toBeInstanceOf(BridgeUnavailableError)
            refused++
            await untilReady(publisher, 60_000)
          }
        }
      })()

      await vi.waitFor(() => expect(published).toBeGreaterThanOrEqual(200), { timeout: 30_000 })
      gate = new Promise((resolve) => {
        openGate = resolve
      })
      await vi.waitFor(() => expect(published).toBeGreaterThanOrEqual(400), { timeout: 30_000 })
      const deliveredBeforeStop = deliveries.size
      const confirmedBeforeStop = published
      await node.stop()
      await vi.waitFor(() => expect(publisher.isReady() || consumer.isReady()).toBe(false), {
        timeout: 10_000,
      })
      // liveness: still reconnecting, so still alive (it never gives up)
      expect(publisher.isHealthy()).toBe(true)
      // during the outage, invocations fail fast instead of hanging until their deadline
      const started = Date.now()
      await expect(publisher.invoke(ping, {}, { timeout: 10_000 })).rejects.toBeInstanceOf(
        BridgeUnavailableError,
      )
      expect(Date.now() - started).toBeLessThan(1_000)
      const publishedBeforeRestart = published

      await node.start()
      await untilReady(publisher, 30_000)
      await untilReady(consumer, 30_000)
      openGate() // the held handlers finish now; their acks died with the old connection
      confirmedAfterRestart = 0
      await publishing
      const EVENTS = published

      await vi.waitFor(() => expect(deliveries.size).toBe(EVENTS), { timeout: 60_000, interval: 100 })
      const missing = Array.from({ length: EVENTS }, (_, id) => id).filter((id) => !deliveries.has(id))
      expect(missing).toEqual([])
      const duplicates = [...deliveries.values()].reduce((sum, count) => sum + count - 1, 0)
      console.info(
        `[broker restart] ${EVENTS} durable events (${publishedBeforeRestart} confirmed before the restart, ` +
          `${confirmedBeforeStop - deliveredBeforeStop} of them queued or unacked in flight when the broker stopped), ` +
          `all delivered at least once, none lost; ${duplicates} duplicate deliveries; ` +
          `${refused} emits refused during the outage and emitted again`,
      )
      expect(refused).toBeGreaterThan(0)

      // topology and consumers were re-declared: commands work again too
      await expect(publisher.invoke(ping, {})).resolves.toEqual({ ok: true })
    })
  },
)
