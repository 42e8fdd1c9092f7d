import {
  consumerGroupOf,
  type EventBridge,
  type EventBridgeOptions,
  PayloadTooLargeError,
} from '@conduit/core'
import { decodeEnvelope, fromCloudEvent } from '@conduit/core/transport'
import { expect } from 'vitest'
import * as d from '../fixtures/definitions.js'
import * as f from '../fixtures/delivery.js'
import { calcService, ledgerService, mailerService } from '../fixtures/services.js'
import { garbageOfSize } from '../fixtures/wire.js'
import { type ConformanceWorld, TEST_RETRY_BACKOFF } from '../world.js'
import { expectDeclaredReason, isNotApplicable, malformedEvents, POLL } from './evidence.js'
import type { WorldTest } from './types.js'

const MIB = 1024 * 1024
/** Backoff of the retry test: long enough that no bridge redelivers that late by accident. */
const BACKOFF = { initialMs: 300, maxMs: 450 }
/** Timers may fire a millisecond early; the broker's clock is the same machine's. */
const CLOCK_SLACK_MS = 5
/** Event-loop turns an unconfirmed publish gets to (wrongly) resolve once its bytes left the bridge. */
const TURNS_WITHOUT_CONFIRMATION = 50

/** What `promise` rejected with (fails the test when it resolves). */
async function rejection(promise: Promise<unknown>): Promise<Error & { status?: number }> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error as Error,
  )
  expect(outcome, 'expected a rejection').toBeDefined()
  return outcome!
}

/** How long a test waits for the redelivery of an event whose consumer died. */
const REDELIVERY = { timeout: 20_000, interval: 50 }

const turn = () => new Promise((resolve) => setImmediate(resolve))
const sorted = (ids: number[]) => [...ids].sort((a, b) => a - b)

/** Bridges a test configures itself (backoff, drain bound, payload limit); stopped by `stopOwn`. */
class OwnBridges {
  private readonly bridges: EventBridge[] = []
  constructor(private readonly world: ConformanceWorld) {}

  async start(options: Partial<EventBridgeOptions> = {}): Promise<EventBridge> {
    return this.started(
      this.world.namespace.createBridge({
        logger: this.world.logger,
        retryBackoff: TEST_RETRY_BACKOFF,
        drainTimeout: 5_000,
        ...options,
      }),
    )
  }

  async started(bridge: EventBridge): Promise<EventBridge> {
    this.bridges.push(bridge)
    await bridge.start()
    return bridge
  }

  async stopAll(): Promise<void> {
    this.world.probe.releaseAll()
    await Promise.allSettled(this.bridges.map((bridge) => bridge.stop()))
  }
}

async function withOwnBridges(world: ConformanceWorld, body: (own: OwnBridges) => Promise<void>) {
  const own = new OwnBridges(world)
  try {
    await body(own)
  } finally {
    await own.stopAll()
  }
}

/** The payload of a dead-letter record: a wire envelope, or a Conduit CloudEvent. */
export function payloadOfLetter(bytes: Uint8Array): unknown {
  try {
    return decodeEnvelope(bytes).payload
  } catch {
    try {
      const json = JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown>
      return json.specversion === undefined ? undefined : fromCloudEvent(json).payload
    } catch {
      return undefined
    }
  }
}

/** Emits marker events until `seen` reports one: every message sent before it on that path has arrived. */
async function emitMarker(seen: () => boolean, emit: (id: number) => Promise<void>) {
  let id = 1_000_000
  await expect
    .poll(async () => {
      if (!seen()) await emit(id++)
      return seen()
    }, POLL)
    .toBe(true)
}

export function deliveryTests(test: WorldTest): void {
  test('durable: redeliveries are spaced by at least the configured backoff', async (world) => {
    await withOwnBridges(world, async (own) => {
      const server = await own.start({ retryBackoff: BACKOFF })
      if (!server.capabilities.durable.supported) {
        expectDeclaredReason(world, 'durable redelivery', server.capabilities.durable.reason)
        return
      }
      await world.run(f.retrierService(world.probe, 'R', 2), server)
      const client = await world.bridge()
      await client.emit(f.ticked, { id: 1 })
      const attempts = () => world.probe.of('cfretrier.onTicked')
      await expect.poll(() => attempts().map((call) => call.attempt), POLL).toEqual([1, 2, 3])
      const at = attempts().map((call) => (call.input as { at: number }).at)
      const gaps = [at[1]! - at[0]!, at[2]! - at[1]!]
      const expected = [BACKOFF.initialMs, Math.min(BACKOFF.maxMs, BACKOFF.initialMs * 2)]
      expect(gaps[0], `gap before attempt 2: ${gaps.map(Math.round)}`).toBeGreaterThanOrEqual(
        expected[0]! - CLOCK_SLACK_MS,
      )
      expect(gaps[1], `gap before attempt 3: ${gaps.map(Math.round)}`).toBeGreaterThanOrEqual(
        expected[1]! - CLOCK_SLACK_MS,
      )
    })
  })

  test('durable: acked only after the handler succeeds: an event whose handler runs when its consumer dies is redelivered, a handled one is not', async (world) => {
    await withOwnBridges(world, async (own) => {
      // A short drain bound: stop() gives up on the held handler and disconnects, as a dying process would.
      const doomed = await own.start({ drainTimeout: 200 })
      if (!doomed.capabilities.durable.supported) {
        expectDeclaredReason(world, 'durable delivery', doomed.capabilities.durable.reason)
        return
      }
      await world.run(f.holderService(world.probe, 'H1', true), doomed)
      const client = await world.bridge()
      await client.emit(f.ticked, { id: 1 })
      await expect.poll(() => world.probe.ids('cfholder.onTicked'), POLL).toEqual([1])
      await client.emit(f.ticked, { id: -1 })
      await expect.poll(() => world.probe.started, POLL).toContain('H1:-1')
      await doomed.stop()
      expect(world.probe.ids('cfholder.onTicked'), 'the held handler has not returned').toEqual([1])

      await world.run(f.holderService(world.probe, 'H2', false), await world.bridge())
      await client.emit(f.ticked, { id: 2 })
      const handledByH2 = () =>
        world.probe
          .of('cfholder.onTicked')
          .filter((call) => call.instance === 'H2')
          .map((call) => (call.input as { id: number }).id)
      // A broker may wait out its ack timeout before it redelivers (JetStream: 10 s by default).
      await expect.poll(() => sorted(handledByH2()), REDELIVERY).toEqual([-1, 2])
      // Anything else redelivered was queued before the marker, so it has arrived by now.
      await emitMarker(
        () => handledByH2().some((id) => id >= 1_000_000),
        (id) => client.emit(f.ticked, { id }),
      )
      expect(handledByH2(), 'the event handled before the consumer died is not redelivered').not.toContain(1)
    })
  })

  test('emit of a durable event resolves only after the broker confirmed it', async (world) => {
    const stallBroker = world.namespace.stallBroker
    if (isNotApplicable(stallBroker)) {
      expectDeclaredReason(world, 'publish confirmation', stallBroker.notApplicable)
      return
    }
    const server = await world.bridge()
    if (!server.capabilities.durable.supported) {
      expectDeclaredReason(world, 'durable delivery', server.capabilities.durable.reason)
      return
    }
    await world.run(ledgerService(world.probe, 'L'), server)
    const client = await world.bridge()
    await client.emit(d.itemCreated, { id: 0, text: 'before the stall' })
    await expect.poll(() => world.probe.ids('cfledger.onCreated'), POLL).toEqual([0])

    const stall = await stallBroker(client)
    let settled: 'resolved' | 'rejected' | undefined
    const emitted = client.emit(d.itemCreated, { id: 1, text: 'x'.repeat(2048) }).then(
      () => (settled = 'resolved'),
      (error: unknown) => {
        settled = 'rejected'
        throw error
      },
    )
    try {
      // The event has left the bridge (its bytes reached the stalled path)...
      await expect.poll(() => stall.held(), POLL).toBeGreaterThanOrEqual(2048)
      // ...but without the broker's confirmation the emit must not resolve.
      for (let i = 0; i < TURNS_WITHOUT_CONFIRMATION && settled === undefined; i++) await turn()
      expect(settled, 'emit settled while the broker could not confirm it').toBeUndefined()
    } finally {
      await stall.release()
    }
    await emitted
    await expect.poll(() => sorted(world.probe.ids('cfledger.onCreated')), POLL).toEqual([0, 1])
  })

  test("sender version filter: a subscription on the emitting service's version receives only that version's events", async (world) => {
    await world.run(f.emitterService('1'), await world.bridge())
    await world.run(f.emitterService('2'), await world.bridge())
    await world.run(f.versionsService(world.probe, 'V'), await world.bridge())
    const client = await world.bridge()
    for (const id of [1, 2, 3, 4]) {
      await client.invoke(id % 2 === 0 ? f.emitFromV2 : f.emitFromV1, { id })
    }
    // The unfiltered subscription shows both versions were emitted and have arrived.
    await expect.poll(() => sorted(world.probe.ids('cfversions.anyVersion')), POLL).toEqual([1, 2, 3, 4])
    // A version-2 event sent after them all: once it is through, nothing earlier is still on its way.
    await client.invoke(f.emitFromV2, { id: 5 })
    await expect.poll(() => sorted(world.probe.ids('cfversions.onlyV2')), POLL).toEqual([2, 4, 5])
    const versions = world.probe
      .of('cfversions.onlyV2')
      .map((call) => (call.input as { version: string }).version)
    expect(new Set(versions)).toEqual(new Set(['2']))
  })

  test('a malformed durable event is dead-lettered: its bytes are in the dead-letter place, once', async (world) => {
    const bridge = await world.bridge()
    const reader = world.namespace.readRawDeadLetters
    const { durable } = bridge.capabilities
    if (!durable.supported) {
      expectDeclaredReason(world, 'durable delivery', durable.reason)
      return
    }
    if (isNotApplicable(reader))
      throw new Error(`a bridge with durable delivery must show its dead letters: ${reader.notApplicable}`)
    await world.run(ledgerService(world.probe, 'L'), bridge)
    const client = await world.bridge()
    await client.emit(d.itemCreated, { id: 0, text: 'warm up' })
    await expect.poll(() => world.probe.ids('cfledger.onCreated'), POLL).toEqual([0])
    const garbage = garbageOfSize(512)
    await world.namespace.injectRawEvent(d.itemCreated.name, garbage)
    await expect.poll(() => malformedEvents(world).length, POLL).toBeGreaterThan(0)
    const group = consumerGroupOf(d.ledgerOnCreated)
    await expect.poll(async () => (await reader(group)).length, POLL).toBeGreaterThan(0)
    // handled events after it: a requeued copy would be dead-lettered (and logged) again
    for (const id of [1, 2]) {
      await client.emit(d.itemCreated, { id, text: `after ${id}` })
      await expect.poll(() => world.probe.ids('cfledger.onCreated'), POLL).toContain(id)
    }
    const letters = await reader(group)
    expect(letters, 'dead-lettered once').toHaveLength(1)
    const letter = Buffer.from(letters[0]!)
    const asCloudEvent = () => {
      const event = JSON.parse(letter.toString('utf8')) as { data_base64?: string }
      return Buffer.from(event.data_base64 ?? '', 'base64')
    }
    const body = letter.equals(Buffer.from(garbage)) ? letter : asCloudEvent()
    expect(body.equals(Buffer.from(garbage)), 'the dead letter holds the malformed bytes').toBe(true)
    expect(malformedEvents(world)).toHaveLength(1)
  })

  test('a payload limit above 1 MiB is enforced: 1.5 MiB travels, 2.5 MiB is refused with PayloadTooLargeError before anything waits', async (world) => {
    const create = world.namespace.createBridgeWithPayloadLimit
    if (isNotApplicable(create)) {
      expectDeclaredReason(world, 'a payload limit above 1 MiB', create.notApplicable)
      return
    }
    await withOwnBridges(world, async (own) => {
      const limit = 2 * MIB
      const options = { logger: world.logger, retryBackoff: TEST_RETRY_BACKOFF, drainTimeout: 5_000 }
      const server = await own.started(create(options, limit))
      await world.run(calcService(world.probe, 'A'), server)
      await world.run(mailerService(world.probe, 'M'), server)
      const client = await own.started(create(options, limit))
      expect(client.capabilities.maxPayloadBytes).toBe(limit)

      const fits = 'x'.repeat(1.5 * MIB)
      const answer = await client.invoke(d.echo, { text: 'fits', blob: fits }, { timeout: 20_000 })
      expect(answer.blob === fits, '1.5 MiB round trips unchanged').toBe(true)

      const tooLarge = 'x'.repeat(2.5 * MIB)
      const call = client.invoke(d.echo, { text: 'too large', blob: tooLarge })
      expect(client.pendingInvocations, 'refused before a pending call exists').toBe(0)
      const error = await rejection(call)
      expect(error).toBeInstanceOf(PayloadTooLargeError)
      expect(error.status).toBe(413)
      expect(error.message).toContain(String(limit))

      const emitted = await client.emit(d.itemCreated, { id: 1, text: tooLarge }).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(emitted).toBeInstanceOf(PayloadTooLargeError)
      await client.emit(d.itemCreated, { id: 2, text: fits })
      await expect
        .poll(() => world.probe.ids('cfmailer.onCreated'), { ...POLL, timeout: 20_000 })
        .toEqual([2])
      expect(world.probe.of('echo').map((c) => (c.input as { text: string }).text)).toEqual(['fits'])
    })
  })
}
