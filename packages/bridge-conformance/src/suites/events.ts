import { CapabilityError, consumerGroupOf, type EventBridge } from '@conduit/core'
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
import { payloadOfLetter } from './delivery.js'
import { isNotApplicable } from './evidence.js'
import type { WorldTest } from './types.js'

const POLL = { timeout: 10_000, interval: 20 }
const sorted = (ids: number[]) => [...ids].sort((a, b) => a - b)
const unique = (ids: number[]) => sorted([...new Set(ids)])
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

async function emitItems(bridge: EventBridge, ids: number[]): Promise<void> {
  for (const id of ids) await bridge.emit(d.itemCreated, { id, text: `item ${id}` })
}

const FIRST_MARKER = 1_000_000
const isMarker = (id: number) => id >= FIRST_MARKER
/** How long markers must keep arriving after the real events before their counts are final. */
const QUIET_MS = 300

/**
 * Emits marker events one after another, each once it arrived (at every receiver when they are
 * distinct subscriptions, at one when they are instances of one group), until markers have kept
 * arriving for QUIET_MS and every receiver has one. A copy sent before a marker on the same path,
 * or up to QUIET_MS late, has arrived by then: a duplicate is counted instead of missed.
 * Returns what each receiver handled, markers left out.
 */
async function settleWithMarkers(
  client: EventBridge,
  receivers: (() => number[])[],
  shape: 'subscriptions' | 'instances of one group',
): Promise<number[][]> {
  const started = performance.now()
  const through = (marker: number) =>
    shape === 'subscriptions'
      ? receivers.every((ids) => ids().includes(marker))
      : receivers.some((ids) => ids().includes(marker))
  for (let marker = FIRST_MARKER; ; marker++) {
    await emitItems(client, [marker])
    await expect.poll(() => through(marker), POLL).toBe(true)
    // in-process bridges deliver in microtasks: let timers (a late copy's among them) run too
    await new Promise((resolve) => setImmediate(resolve))
    const everyReceiverHasOne = receivers.every((ids) => ids().some(isMarker))
    if (performance.now() - started >= QUIET_MS && everyReceiverHasOne) break
  }
  return receivers.map((ids) => sorted(ids().filter((id) => !isMarker(id))))
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
    const handlers = ['cfmailer.onCreated', 'cfindexer.onCreated']
    const received = await settleWithMarkers(
      client,
      handlers.map((handler) => () => world.probe.ids(handler)),
      'subscriptions',
    )
    expect(received).toEqual([range(1, 10), range(1, 10)])
  })

  test('consumer group: each event goes to exactly one instance of a subscription', async (world) => {
    await world.run(mailerService(world.probe, 'M1'), await world.bridge())
    await world.run(mailerService(world.probe, 'M2'), await world.bridge())
    const client = await world.bridge()
    await emitItems(client, range(1, 40))
    const idsOf = (instance: string) => () =>
      world.probe
        .of('cfmailer.onCreated')
        .filter((call) => call.instance === instance)
        .map((call) => (call.input as { id: number }).id)
    const [first, second] = await settleWithMarkers(
      client,
      [idsOf('M1'), idsOf('M2')],
      'instances of one group',
    )
    expect(sorted([...first!, ...second!])).toEqual(range(1, 40))
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
    // On the broker, read by a raw client: every durable bridge (Dapr too) dead-letters it once.
    const reader = world.namespace.readRawDeadLetters
    if (isNotApplicable(reader))
      throw new Error(`a bridge with durable delivery must show its dead letters: ${reader.notApplicable}`)
    const group = consumerGroupOf(d.flakyOnDeleted)
    await expect.poll(async () => (await reader(group)).map(payloadOfLetter), POLL).toEqual([{ id: -1 }])
    // the subscription keeps working, and the dead-lettered event is not retried again
    await client.emit(d.itemDeleted, { id: 5 })
    await expect.poll(() => attemptsOf(5), POLL).toEqual([1])
    expect(attemptsOf(-1)).toEqual([1, 2, 3])
  })
}
