import { CapabilityError, type EventBridge } from '@conduit/core'
import { expect } from 'vitest'
import * as d from '../fixtures/definitions.js'
import {
  broadcastService,
  calcService,
  filtersService,
  flakyService,
  indexerService,
  ledgerService,
  mailerService,
  watcherService,
} from '../fixtures/services.js'
import type { ConformanceWorld } from '../world.js'
import type { WorldTest } from './types.js'

const POLL = { timeout: 10_000, interval: 20 }
const sorted = (ids: number[]) => [...ids].sort((a, b) => a - b)
const unique = (ids: number[]) => sorted([...new Set(ids)])
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

async function emitItems(bridge: EventBridge, ids: number[]): Promise<void> {
  for (const id of ids) await bridge.emit(d.itemCreated, { id, text: `item ${id}` })
}

/** Runs `start` and expects the declared gap to be refused at start() with a clear error. */
async function expectCapabilityRefused(
  world: ConformanceWorld,
  bridge: EventBridge,
  start: Promise<unknown>,
) {
  const error = await start.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(CapabilityError)
  expect((error as Error).message).toContain(bridge.name)
  world.logs.push({ level: 30, msg: `declared gap enforced: ${(error as Error).message}` })
}

export function eventTests(test: WorldTest): void {
  test('fan-out: every distinct subscription receives each event once', async (world) => {
    await world.run(mailerService(world.probe, 'M'), await world.bridge())
    await world.run(indexerService(world.probe, 'I'), await world.bridge())
    const client = await world.bridge()
    await emitItems(client, range(1, 10))
    await expect.poll(() => sorted(world.probe.ids('cfmailer.onCreated')), POLL).toEqual(range(1, 10))
    await expect.poll(() => sorted(world.probe.ids('cfindexer.onCreated')), POLL).toEqual(range(1, 10))
  })

  test('consumer group: each event goes to exactly one instance of a subscription', async (world) => {
    await world.run(mailerService(world.probe, 'M1'), await world.bridge())
    await world.run(mailerService(world.probe, 'M2'), await world.bridge())
    const client = await world.bridge()
    await emitItems(client, range(1, 40))
    await expect.poll(() => world.probe.of('cfmailer.onCreated').length, POLL).toBeGreaterThanOrEqual(40)
    expect(sorted(world.probe.ids('cfmailer.onCreated'))).toEqual(range(1, 40))
  })

  test('everyInstance: every running instance receives each event', async (world) => {
    const first = await world.bridge()
    if (!first.capabilities.everyInstance.supported) {
      await expectCapabilityRefused(world, first, world.run(broadcastService(world.probe, 'B1'), first))
      return
    }
    await world.run(broadcastService(world.probe, 'B1'), first)
    await world.run(broadcastService(world.probe, 'B2'), await world.bridge())
    const client = await world.bridge()
    await emitItems(client, range(1, 5))
    const idsOf = (instance: string) =>
      sorted(
        world.probe
          .of('cfbroadcast.onCreated')
          .filter((call) => call.instance === instance)
          .map((call) => (call.input as { id: number }).id),
      )
    await expect.poll(() => idsOf('B1'), POLL).toEqual(range(1, 5))
    await expect.poll(() => idsOf('B2'), POLL).toEqual(range(1, 5))
  })

  test('filters: tenant, principal and sender filters select events', async (world) => {
    await world.run(filtersService(world.probe, 'F'), await world.bridge())
    await world.run(calcService(world.probe, 'C'), await world.bridge())
    const client = await world.bridge()
    await client.emit(d.itemCreated, { id: 1, text: 'a' }, { tenantId: 'tenant-a', principalId: 'bob' })
    await client.emit(d.itemCreated, { id: 2, text: 'b' }, { tenantId: 'tenant-b', principalId: 'alice' })
    await client.invoke(d.createItem, { id: 3, text: 'c' })
    await client.invoke(d.createItem, { id: 4, text: 'd' }, { tenantId: 'tenant-a', principalId: 'alice' })
    await expect.poll(() => sorted(world.probe.ids('cffilters.byTenant')), POLL).toEqual([1, 4])
    await expect.poll(() => sorted(world.probe.ids('cffilters.byPrincipal')), POLL).toEqual([2, 4])
    await expect.poll(() => sorted(world.probe.ids('cffilters.bySender')), POLL).toEqual([3, 4])
  })

  test('wildcards: `*` matches one segment, a final `#` one or more', async (world) => {
    const bridge = await world.bridge()
    if (!bridge.capabilities.wildcards.supported) {
      await expectCapabilityRefused(world, bridge, world.run(watcherService(world.probe, 'W'), bridge))
      return
    }
    await world.run(watcherService(world.probe, 'W'), bridge)
    const client = await world.bridge()
    await client.emit('conformance.item.created', { id: 1 })
    await client.emit('conformance.item.deleted', { id: 2 })
    await client.emit('conformance.other', { id: 3 })
    await client.emit('conformance.item.created.extra', { id: 4 })
    await client.emit('conformanceX.item.created', { id: 5 })
    await client.emit('conformance.item.deleted', { id: 6 })
    await expect.poll(() => sorted(world.probe.ids('cfwatcher.oneSegment')), POLL).toEqual([1, 2, 6])
    await expect.poll(() => sorted(world.probe.ids('cfwatcher.manySegments')), POLL).toEqual([1, 2, 3, 4, 6])
  })

  test('durable: events emitted while no instance runs arrive when one starts', async (world) => {
    const first = await world.bridge()
    if (!first.capabilities.durable.supported) {
      await expectCapabilityRefused(world, first, world.run(ledgerService(world.probe, 'L1'), first))
      return
    }
    const instance = await world.run(ledgerService(world.probe, 'L1'), first)
    const client = await world.bridge()
    await emitItems(client, [0])
    await expect.poll(() => world.probe.ids('cfledger.onCreated'), POLL).toEqual([0])
    await instance.stop()
    await emitItems(client, range(1, 5))
    await world.run(ledgerService(world.probe, 'L2'), await world.bridge())
    await expect.poll(() => unique(world.probe.ids('cfledger.onCreated')), POLL).toEqual(range(0, 5))
    const late = world.probe.of('cfledger.onCreated').filter((call) => (call.input as { id: number }).id > 0)
    expect(late.every((call) => call.instance === 'L2')).toBe(true)
  })

  test('durable: a failing handler is retried up to maxAttempts, then dead-lettered', async (world) => {
    const bridge = await world.bridge()
    if (!bridge.capabilities.durable.supported) {
      await expectCapabilityRefused(world, bridge, world.run(flakyService(world.probe, 'F'), bridge))
      return
    }
    await world.run(flakyService(world.probe, 'F'), bridge)
    const client = await world.bridge()
    await client.emit(d.itemDeleted, { id: -1 })
    const attemptsOf = (id: number) =>
      world.probe
        .of('cfflaky.onDeleted')
        .filter((call) => (call.input as { id: number }).id === id)
        .map((call) => call.attempt)
    await expect.poll(() => attemptsOf(-1), POLL).toEqual([1, 2, 3])
    if (bridge.capabilities.deadLetterInspection.supported) {
      await expect
        .poll(async () => (await bridge.readDeadLetters(d.flakyOnDeleted)).map((m) => m.payload), POLL)
        .toEqual([{ id: -1 }])
    }
    // the subscription keeps working, and the dead-lettered event is not retried again
    await client.emit(d.itemDeleted, { id: 5 })
    await expect.poll(() => attemptsOf(5), POLL).toEqual([1])
    expect(attemptsOf(-1)).toEqual([1, 2, 3])
  })
}
