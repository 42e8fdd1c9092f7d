import type { EventBridge } from '@conduit/core'
import { expect } from 'vitest'
import * as d from '../fixtures/definitions.js'
import { calcService, ledgerService, mailerService } from '../fixtures/services.js'
import {
  bytesOf,
  commandEnvelope,
  eventEnvelope,
  garbageOfSize,
  hostileCommandBodies,
  hostileEventBodies,
} from '../fixtures/wire.js'
import {
  echoed,
  expectDeclaredReason,
  expectNothingFailed,
  firstAnswer,
  isNotApplicable,
  malformedCommands,
  malformedEvents,
  POLL,
  reasonOf,
  validReplyAddress,
  warningsAbout,
} from './evidence.js'
import type { WorldTest } from './types.js'

const ECHO = { service: d.calcV1.name, version: d.calcV1.version, command: d.echo.name }
const ONE_MIB = 1024 * 1024
/** Normal calls made after a poison message: a copy of it requeued or redelivered would show up between them. */
const CALLS_AFTER_POISON = 10

/** Calls echo CALLS_AFTER_POISON times, letting the event loop turn between calls (in-process bridges answer within one turn). */
async function callsAfterPoison(client: EventBridge, label: string): Promise<void> {
  for (let i = 0; i < CALLS_AFTER_POISON; i++) {
    await client.invoke(d.echo, { text: `${label} ${i}` })
    await turn()
  }
}

/** Lets the event loop turn once: in-process bridges handle a message within one turn. */
const turn = () => new Promise((resolve) => setImmediate(resolve))
const sorted = (ids: number[]) => [...ids].sort((a, b) => a - b)

/**
 * What an attacker (or a broken producer) on the bus can send. Every case: the service
 * survives, answers the next call, logs the reason, and handles the message a bounded number
 * of times (once).
 */
export function hostileTests(test: WorldTest): void {
  test('an expired command with a 600 KB correlation id is refused with a logged reason; the service answers the next call', async (world) => {
    const server = await world.bridge()
    await world.run(calcService(world.probe, 'A'), server)
    const client = await world.bridge()
    // Long enough that an error reply echoing it would not fit; short enough to be carried at all.
    const length = Math.min(600 * 1024, server.capabilities.maxPayloadBytes - 4096)
    const correlationId = 'c'.repeat(length)
    const expired = commandEnvelope(
      ECHO,
      { text: 'expired' },
      { correlationId, deadline: Date.now() - 60_000 },
    )
    await world.namespace.injectRawCommand(ECHO, bytesOf(expired), validReplyAddress(world))

    await expect
      .poll(() => malformedCommands(world).length, {
        ...POLL,
        message: 'a warning that the command was dropped, with its reason',
      })
      .toBeGreaterThan(0)
    const drops = malformedCommands(world)
    expect(drops, 'dropped once').toHaveLength(1)
    expect(reasonOf(drops[0]!), 'the reason names the over-long field').toMatch(/correlationId/)
    await expect(client.invoke(d.echo, { text: 'next' })).resolves.toMatchObject({ text: 'next' })
    expect(server.isReady()).toBe(true)
    expect(echoed(world)).toEqual(['next'])
    // the hostile id is not copied into a log line either
    const longest = Math.max(...world.logs.map((entry) => JSON.stringify(entry).length))
    expect(longest).toBeLessThan(64 * 1024)
    expectNothingFailed(world)
  })

  test('a command naming a hostile reply address is not run; the reason is logged once and the service answers the next call', async (world) => {
    const addresses = world.namespace.replyAddresses
    if (isNotApplicable(addresses)) {
      expectDeclaredReason(world, 'hostile reply addresses', addresses.notApplicable)
      return
    }
    expect(
      addresses.hostile.length,
      'a bridge that reads reply addresses names hostile ones',
    ).toBeGreaterThan(0)
    const server = await world.bridge()
    await world.run(calcService(world.probe, 'A'), server)
    const client = await world.bridge()

    // Control: the harness's valid address is accepted, so "not run" below means refused.
    const control = commandEnvelope(ECHO, { text: 'valid reply address' })
    await world.namespace.injectRawCommand(ECHO, bytesOf(control), addresses.valid)
    await expect.poll(() => echoed(world), POLL).toContain('valid reply address')
    expect(warningsAbout(world, control.correlationId as string)).toEqual([])

    const hostile = addresses.hostile.map((address, i) => ({ address, correlationId: `hostile-reply-${i}` }))
    for (const { address, correlationId } of hostile) {
      const command = commandEnvelope(ECHO, { text: correlationId }, { correlationId })
      await world.namespace.injectRawCommand(ECHO, bytesOf(command), address)
      await expect
        .poll(() => warningsAbout(world, correlationId).length, {
          ...POLL,
          message: `a warning, with its reason, about the command naming ${address}`,
        })
        .toBeGreaterThan(0)
      await expect(client.invoke(d.echo, { text: `after ${address}` })).resolves.toMatchObject({
        text: `after ${address}`,
      })
    }
    await callsAfterPoison(client, 'later')
    for (const { address, correlationId } of hostile) {
      const warnings = warningsAbout(world, correlationId)
      expect(warnings, `handled once: ${address}`).toHaveLength(1)
      expect(reasonOf(warnings[0]!), `a reason for refusing ${address}`).toMatch(/reply/i)
      expect(echoed(world), `not run: ${address}`).not.toContain(correlationId)
    }
    expect(server.isReady()).toBe(true)
    expectNothingFailed(world)
  })

  test('malformed commands (garbage, wrong shape, spec version 99) are dropped with a logged reason; the service answers the next call', async (world) => {
    const server = await world.bridge()
    await world.run(calcService(world.probe, 'A'), server)
    const client = await world.bridge()
    const bodies = hostileCommandBodies(ECHO, { text: 'hostile' })
    for (const body of bodies) {
      const before = malformedCommands(world).length
      await world.namespace.injectRawCommand(ECHO, body.bytes, validReplyAddress(world))
      await expect
        .poll(
          () =>
            malformedCommands(world)
              .slice(before)
              .some((entry) => body.reason.test(reasonOf(entry))),
          {
            ...POLL,
            message: `a logged reason matching ${body.reason} for ${body.kind}`,
          },
        )
        .toBe(true)
      await expect(client.invoke(d.echo, { text: `after ${body.kind}` })).resolves.toMatchObject({
        text: `after ${body.kind}`,
      })
    }
    expect(malformedCommands(world)).toHaveLength(bodies.length)
    expect(echoed(world)).not.toContain('hostile')
    // Control: the same path delivers a well-formed foreign command, so "dropped" means refused.
    const valid = commandEnvelope(ECHO, { text: 'foreign but valid' })
    await world.namespace.injectRawCommand(ECHO, bytesOf(valid), validReplyAddress(world))
    await expect.poll(() => echoed(world), POLL).toContain('foreign but valid')
    expectNothingFailed(world)
    expect(server.isReady()).toBe(true)
  })

  test('a poison command is handled once, never retried: after it, normal calls are answered and it was dropped exactly once', async (world) => {
    const server = await world.bridge()
    await world.run(calcService(world.probe, 'A'), server)
    const client = await world.bridge()
    // Looks like a command, but cannot be served: no receiver.
    const poison = commandEnvelope(ECHO, { text: 'poison' }, { receiver: undefined })
    await world.namespace.injectRawCommand(ECHO, bytesOf(poison), validReplyAddress(world))
    await expect.poll(() => malformedCommands(world).length, POLL).toBeGreaterThan(0)
    await firstAnswer(client, 'first after poison')
    // Through the same listener: a requeued or redelivered copy would be handled again in between.
    await callsAfterPoison(client, 'after poison')
    const drops = malformedCommands(world)
    expect(drops).toHaveLength(1)
    expect(reasonOf(drops[0]!)).toMatch(/receiver/)
    expect(echoed(world)).not.toContain('poison')
    expectNothingFailed(world)
  })

  test('a malformed event on the wire (garbage, wrong shape, spec version 99) is logged and dropped or dead-lettered; subscriptions keep working', async (world) => {
    const bridge = await world.bridge()
    await world.run(mailerService(world.probe, 'M'), bridge)
    const durable = bridge.capabilities.durable.supported
    if (durable) await world.run(ledgerService(world.probe, 'L'), bridge)
    const groups = durable ? 2 : 1
    const client = await world.bridge()
    const bodies = hostileEventBodies(d.itemCreated.name, { id: 99, text: 'hostile' })
    for (const body of bodies) {
      const before = malformedEvents(world).length
      await world.namespace.injectRawEvent(d.itemCreated.name, body.bytes)
      await expect
        .poll(
          () =>
            malformedEvents(world)
              .slice(before)
              .filter((entry) => body.reason.test(reasonOf(entry))).length,
          {
            ...POLL,
            message: `one logged reason matching ${body.reason} per subscription for ${body.kind}`,
          },
        )
        .toBeGreaterThanOrEqual(groups)
    }
    await client.emit(d.itemCreated, { id: 1, text: 'valid' })
    await expect.poll(() => world.probe.ids('cfmailer.onCreated'), POLL).toEqual([1])
    if (durable) await expect.poll(() => world.probe.ids('cfledger.onCreated'), POLL).toEqual([1])
    expect(malformedEvents(world)).toHaveLength(bodies.length * groups)
    expectNothingFailed(world)
  })

  test('a durable event too large to dead-letter whole is dead-lettered once with a logged reason, not redelivered; the subscription keeps handling events', async (world) => {
    const bridge = await world.bridge()
    const { durable, maxPayloadBytes } = bridge.capabilities
    let handler = 'cfledger.onCreated'
    if (durable.supported) {
      await world.run(ledgerService(world.probe, 'L'), bridge)
    } else {
      // Nothing durable to loop; the same bytes still must not harm an at-most-once subscription.
      expectDeclaredReason(world, 'durable subscriptions', durable.reason)
      await world.run(mailerService(world.probe, 'M'), bridge)
      handler = 'cfmailer.onCreated'
    }
    // Less room than a dead-letter copy's headers need: where the limit bites, only a stub fits.
    const size = Math.min(maxPayloadBytes - 64, ONE_MIB)
    await world.namespace.injectRawEvent(d.itemCreated.name, garbageOfSize(size))
    await expect.poll(() => malformedEvents(world).length, POLL).toBeGreaterThan(0)

    const client = await world.bridge()
    // One at a time, each handled before the next: a redelivered copy would come back in between.
    for (const id of [1, 2, 3]) {
      await client.emit(d.itemCreated, { id, text: `after ${id}` })
      await expect.poll(() => world.probe.ids(handler), POLL).toContain(id)
      await turn()
    }
    expect(sorted(world.probe.ids(handler))).toEqual([1, 2, 3])
    const drops = malformedEvents(world)
    expect(drops, 'the oversized malformed event is handled exactly once').toHaveLength(1)
    expect(reasonOf(drops[0]!)).toMatch(/UTF-8|JSON/)
    // Its dead-letter record fits the broker (a stub where the original would not): nothing failed.
    expectNothingFailed(world)
    expect(bridge.isReady()).toBe(true)
  })

  test("a foreign producer's well-formed event is handled (so the refusals above are refusals)", async (world) => {
    const bridge = await world.bridge()
    await world.run(mailerService(world.probe, 'M'), bridge)
    const event = eventEnvelope(d.itemCreated.name, { id: 7, text: 'foreign but valid' })
    await world.namespace.injectRawEvent(d.itemCreated.name, bytesOf(event))
    await expect.poll(() => world.probe.ids('cfmailer.onCreated'), POLL).toEqual([7])
    expect(malformedEvents(world)).toEqual([])
  })
}
