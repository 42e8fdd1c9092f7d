import { randomUUID } from 'node:crypto'
import { StallableRelay } from '@conduit/bridge-conformance'
import {
  BridgeUnavailableError,
  createService,
  defineEvent,
  defineService,
  type EventBridge,
  handleCommand,
  handleSubscription,
} from '@conduit/core'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { z } from 'zod'
import { AmqpBridge, type AmqpBridgeOptions, DEFAULT_AMQP_URL } from '../src/index.js'
import { deleteDeclaredTopology, uniquePrefix } from '../src/testing.js'
import { closeConnectionsNamed, rabbitmqctlMissing } from './support/closeConnection.js'

const url = process.env.CONDUIT_AMQP_URL ?? DEFAULT_AMQP_URL

const noted = defineEvent('reconnect.noted', z.object({ id: z.number().int() }))
const notesV1 = defineService({ name: 'reconnectNotes', version: '1' })
const add = notesV1.command('add', {
  input: z.object({ a: z.number(), b: z.number() }),
  output: z.object({ sum: z.number() }),
})
const hold = notesV1.command('hold', { input: z.object({}), output: z.object({}) })
const fastLane = notesV1.subscription('fastLane', { event: noted })
const ledger = notesV1.subscription('ledger', { event: noted, delivery: 'durable' })

function notesService(
  seen: { fastLane: number[]; ledger: number[] },
  held: Promise<void> = Promise.resolve(),
) {
  return createService(notesV1, {
    commands: [
      handleCommand(add, ({ a, b }) => ({ sum: a + b })),
      // answers only once the test lets it, so the call is surely in flight when the connection goes
      handleCommand(hold, async () => {
        await held
        return {}
      }),
    ],
    subscriptions: [
      handleSubscription(fastLane, ({ id }) => void seen.fastLane.push(id)),
      handleSubscription(ledger, ({ id }) => void seen.ledger.push(id)),
    ],
  })
}

const readiness = async (bridge: EventBridge, ready: boolean) =>
  vi.waitFor(() => expect(bridge.isReady()).toBe(ready), { timeout: 15_000, interval: 20 })

describe.skipIf(rabbitmqctlMissing !== undefined)('reconnect after the broker closes the connection', () => {
  const bridges: AmqpBridge[] = []
  const prefix = uniquePrefix('reconnect')

  afterEach(async () => {
    // stop() waits (bounded) for handlers; the slow one here is cut short by drainTimeout
    await Promise.allSettled(bridges.map((bridge) => bridge.stop()))
    await deleteDeclaredTopology(
      bridges.map((bridge) => bridge.declaredTopology),
      url,
    )
    bridges.length = 0
  }, 30_000)

  async function started(options: AmqpBridgeOptions = {}): Promise<{ bridge: AmqpBridge; name: string }> {
    const instanceId = randomUUID()
    const bridge = new AmqpBridge({
      url,
      prefix,
      instanceId,
      reconnect: { initialMs: 50, maxMs: 200 },
      ...options,
    })
    bridges.push(bridge)
    await bridge.start()
    return { bridge, name: `conduit amqp ${instanceId}` }
  }

  it('re-declares queues and consumers, so commands and both delivery modes work again', {
    timeout: 30_000,
  }, async () => {
    const seen = { fastLane: [] as number[], ledger: [] as number[] }
    const server = await started()
    await (await notesService(seen).getInstance(server.bridge)).start()
    const client = await started()
    await expect(client.bridge.invoke(add, { a: 1, b: 2 })).resolves.toEqual({ sum: 3 })

    expect(await closeConnectionsNamed(server.name)).toBe(1)
    await readiness(server.bridge, false)
    await readiness(server.bridge, true)

    await expect(client.bridge.invoke(add, { a: 2, b: 2 })).resolves.toEqual({ sum: 4 })
    await client.bridge.emit(noted, { id: 1 })
    await vi.waitFor(() => expect(seen).toEqual({ fastLane: [1], ledger: [1] }), { timeout: 10_000 })
  })

  it('fails calls in flight and calls during the outage at once, not at their deadline', {
    timeout: 30_000,
  }, async () => {
    let release: () => void = () => undefined
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    // The client talks through a relay that cuts its connection at once, like a network fault
    // (rabbitmqctl takes seconds on a loaded machine, longer than the outage below lasts).
    const relay = await StallableRelay.start(new URL(url).hostname, Number(new URL(url).port || 5672))
    try {
      const server = await started({ drainTimeout: 200 })
      await (await notesService({ fastLane: [], ledger: [] }, held).getInstance(server.bridge)).start()
      // a slow reconnect keeps the outage open long enough to call into it
      const client = await started({ url: relay.urlFor(url), reconnect: { initialMs: 1_500, maxMs: 1_500 } })

      const inFlight = client.bridge.invoke(hold, {}, { timeout: 20_000 })
      inFlight.catch(() => undefined)
      await vi.waitFor(() => expect(client.bridge.pendingInvocations).toBe(1))
      const closedAt = Date.now()
      expect(await relay.cut(client.bridge.instanceId)).toBe(1)
      await expect(inFlight).rejects.toBeInstanceOf(BridgeUnavailableError)
      expect(client.bridge.isReady()).toBe(false)
      await expect(client.bridge.invoke(add, { a: 1, b: 1 })).rejects.toBeInstanceOf(BridgeUnavailableError)
      await expect(client.bridge.emit(noted, { id: 2 })).rejects.toBeInstanceOf(BridgeUnavailableError)
      expect(Date.now() - closedAt).toBeLessThan(1_000)
      expect(client.bridge.pendingInvocations).toBe(0)

      await readiness(client.bridge, true)
      await expect(client.bridge.invoke(add, { a: 20, b: 22 })).resolves.toEqual({ sum: 42 })
    } finally {
      release()
      await Promise.allSettled(bridges.map((bridge) => bridge.stop()))
      await relay.close()
    }
  })
  it('abandons a reconnect attempt the broker never answers and tries again', {
    timeout: 30_000,
  }, async () => {
    // A booting broker can accept the socket and then say nothing; an attempt that waits forever
    // is never retried, and the bridge stays down after the broker is back.
    const relay = await StallableRelay.start(new URL(url).hostname, Number(new URL(url).port || 5672))
    try {
      const server = await started()
      await (await notesService({ fastLane: [], ledger: [] }).getInstance(server.bridge)).start()
      const client = await started({ url: relay.urlFor(url) })
      const stall = relay.stall()
      const before = relay.accepted
      expect(await relay.cut(client.bridge.instanceId)).toBe(1)
      // bounded below RabbitMQ's own handshake_timeout (10 s), which would end the attempt anyway
      await vi.waitFor(() => expect(relay.accepted).toBeGreaterThanOrEqual(before + 2), {
        timeout: 8_000,
        interval: 50,
      })
      expect(client.bridge.isReady()).toBe(false)
      await stall.release()
      await readiness(client.bridge, true)
      await expect(client.bridge.invoke(add, { a: 1, b: 2 })).resolves.toEqual({ sum: 3 })
    } finally {
      await Promise.allSettled(bridges.map((bridge) => bridge.stop()))
      await relay.close()
    }
  })
})
