import { BridgeUnavailableError, isConduitError } from '@conduit/core'
import { expect } from 'vitest'
import * as d from '../fixtures/definitions.js'
import { calcService } from '../fixtures/services.js'
import { bytesOf, commandEnvelope } from '../fixtures/wire.js'

import type { WorldTest } from './types.js'

async function rejection(promise: Promise<unknown>): Promise<Record<string, any>> {
  try {
    await promise
  } catch (error) {
    expect(isConduitError(error), `expected a ConduitError, got ${String(error)}`).toBe(true)
    return error as Record<string, any>
  }
  throw new Error('expected the call to fail, it succeeded')
}

export function commandTests(test: WorldTest): void {
  test('round trip: a command returns its validated output', async (world) => {
    const server = await world.bridge()
    await world.run(calcService(world.probe, 'A'), server)
    const client = await world.bridge()
    await expect(client.invoke(d.add, { a: 2, b: 40 })).resolves.toEqual({ sum: 42, handledBy: 'A' })
    expect(world.probe.of('add')).toHaveLength(1)
  })

  test('a bridge that is not started refuses calls with BridgeUnavailableError and reports not ready', async (world) => {
    const bridge = world.unstartedBridge()
    expect(bridge.isReady()).toBe(false)
    await expect(bridge.invoke(d.add, { a: 1, b: 1 })).rejects.toBeInstanceOf(BridgeUnavailableError)
    await bridge.start()
    expect(bridge.isReady()).toBe(true)
    expect(bridge.isHealthy()).toBe(true)
    await bridge.stop()
    expect(bridge.isReady()).toBe(false)
  })

  test('bad input is a 400 with the zod issues, and the handler does not run', async (world) => {
    const server = await world.bridge()
    await world.run(calcService(world.probe, 'A'), server)
    const client = await world.bridge()
    const error = await rejection(client.invoke(d.add, { a: 'two', b: 3 } as never))
    expect(error.status).toBe(400)
    expect(error.code).toBe('VALIDATION_FAILED')
    expect(error.data.target).toBe('input')
    expect(error.data.issues[0].path).toEqual(['a'])
    expect(world.probe.of('add')).toHaveLength(0)
  })

  test('bad output is a 400 with the zod issues of the output', async (world) => {
    const server = await world.bridge()
    await world.run(calcService(world.probe, 'A'), server)
    const client = await world.bridge()
    const error = await rejection(client.invoke(d.badOutput, {}))
    expect(error.status).toBe(400)
    expect(error.data.target).toBe('output')
    expect(error.data.issues[0].path).toEqual(['sum'])
  })

  test('a HandledError reaches the caller with status, message and data intact', async (world) => {
    const server = await world.bridge()
    await world.run(calcService(world.probe, 'A'), server)
    const client = await world.bridge()
    const error = await rejection(client.invoke(d.fail, { mode: 'handled' }))
    expect(error.status).toBe(409)
    expect(error.code).toBe('CONFLICT')
    expect(error.message).toBe('Item already exists')
    expect(error.data).toEqual({ id: 7, reason: 'duplicate' })
  })

  test('an unhandled error is a generic 500 with the correlation id, no internals on the wire', async (world) => {
    const server = await world.bridge()
    await world.run(calcService(world.probe, 'A'), server)
    const client = await world.bridge()
    const error = await rejection(
      client.invoke(d.fail, { mode: 'unhandled' }, { correlationId: 'corr-500-test' }),
    )
    expect(error.status).toBe(500)
    expect(error.code).toBe('INTERNAL')
    expect(error.correlationId).toBe('corr-500-test')
    expect(error.message).toContain('corr-500-test')
    expect(JSON.stringify({ message: error.message, data: error.data, stack: error.stack })).not.toMatch(
      /secret internal detail|db\.js/,
    )
    // the details stay in the server's logs, with the correlation id
    expect(world.logged(/unhandled error/).some((entry) => entry.correlationId === 'corr-500-test')).toBe(
      true,
    )
    // The caller rebuilds an INTERNAL error from status and code alone, so what it shows proves
    // nothing about the wire: read the reply's bytes as a raw client of the broker received them.
    const address = { service: d.calcV1.name, version: d.calcV1.version, command: d.fail.name }
    const command = commandEnvelope(address, { mode: 'unhandled' }, { correlationId: 'corr-500-wire' })
    const wire = new TextDecoder().decode(
      await world.namespace.captureReply(address, bytesOf(command), 10_000),
    )
    expect(wire).toContain('"INTERNAL"')
    expect(wire).toContain('corr-500-wire')
    expect(wire).not.toMatch(/secret internal detail|db\.js|\bat \S+ \(|Error:/)
  })

  test('timeout: the caller gets a 504, the handler sees its signal abort, the pending entry is freed', async (world) => {
    const server = await world.bridge()
    await world.run(calcService(world.probe, 'A'), server)
    const client = await world.bridge()
    const error = await rejection(client.invoke(d.sleep, { ms: 10_000, tag: 'slow' }, { timeout: 200 }))
    expect(error.status).toBe(504)
    expect(error.code).toBe('TIMEOUT')
    expect(client.pendingInvocations).toBe(0)
    await expect.poll(() => world.probe.aborted, { timeout: 5_000 }).toContain('slow')
  })

  test("the command definition's timeout applies when the call sets none", async (world) => {
    const server = await world.bridge()
    await world.run(calcService(world.probe, 'A'), server)
    const client = await world.bridge()
    const error = await rejection(client.invoke(d.slowByDefinition, { ms: 600 }))
    expect(error.status).toBe(504)
    expect(client.pendingInvocations).toBe(0)
  })

  test('a command whose deadline passed before pickup is not executed', async (world) => {
    const server = await world.bridge()
    await world.run(calcService(world.probe, 'A'), server)
    const client = await world.bridge()
    // The handler fires a call with a 30 ms deadline, then blocks the event loop for 300 ms:
    // the nested command cannot be picked up before its deadline.
    await client.invoke(d.blockAndCall, { blockMs: 300, lateTimeout: 30 }, { timeout: 10_000 })
    await expect(world.probe.lateOutcome).resolves.toBe('TIMEOUT')
    // Ordered delivery to the single instance: once this answers, the late one was seen.
    await client.invoke(d.countMe, { tag: 'after' })
    expect(world.probe.of('countMe').map((call) => (call.input as { tag: string }).tag)).toEqual(['after'])
  })

  test('no handler: the caller gets a 503 where the bridge can tell, else the timeout', async (world) => {
    const client = await world.bridge()
    const error = await rejection(client.invoke(d.ghostCommand, {}, { timeout: 1_500 }))
    if (client.capabilities.noHandlerDetection.supported) {
      expect(error.status).toBe(503)
      expect(error.code).toBe('NO_HANDLER')
    } else {
      expect(error.status).toBe(504)
    }
    expect(client.pendingInvocations).toBe(0)
  })

  test('two instances share 200 invocations: each handled exactly once, both used', async (world) => {
    await world.run(calcService(world.probe, 'A'), await world.bridge())
    await world.run(calcService(world.probe, 'B'), await world.bridge())
    const client = await world.bridge()
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => client.invoke(d.add, { a: i, b: 1000 })),
    )
    results.forEach((result, i) => {
      expect(result.sum).toBe(i + 1000)
    })
    const handled = world.probe.of('add')
    expect(handled).toHaveLength(200)
    expect(new Set(handled.map((call) => (call.input as { a: number }).a)).size).toBe(200)
    expect(handled.filter((call) => call.instance === 'A').length).toBeGreaterThan(0)
    expect(handled.filter((call) => call.instance === 'B').length).toBeGreaterThan(0)
  })

  test('callers may reuse a correlation id: concurrent calls sharing one each get their own answer', async (world) => {
    await world.run(calcService(world.probe, 'A'), await world.bridge())
    const client = await world.bridge()
    const sums = await Promise.all(
      [1, 2, 3].map((a) => client.invoke(d.add, { a, b: 100 }, { correlationId: 'shared-request-id' })),
    )
    expect(sums.map((result) => result.sum)).toEqual([101, 102, 103])
    expect(client.pendingInvocations).toBe(0)
  })

  test('responses reach only the calling instance', async (world) => {
    await world.run(calcService(world.probe, 'A'), await world.bridge())
    const first = await world.bridge()
    const second = await world.bridge()
    const calls = Array.from({ length: 50 }, (_, i) => [
      first.invoke(d.add, { a: i, b: 0 }).then((r) => ['first', i, r.sum] as const),
      second.invoke(d.add, { a: i, b: 10_000 }).then((r) => ['second', i, r.sum] as const),
    ]).flat()
    for (const [caller, i, sum] of await Promise.all(calls)) {
      expect(sum).toBe(caller === 'first' ? i : i + 10_000)
    }
    expect(first.pendingInvocations + second.pendingInvocations).toBe(0)
    // Every transport hands each reply it receives to the engine, which logs (debug) one that
    // matches no call of its own: a reply delivered to both callers would show up here.
    // One more call each: its reply comes after any stray copy of an earlier one.
    await Promise.all([first.invoke(d.add, { a: 1, b: 1 }), second.invoke(d.add, { a: 2, b: 2 })])
    expect(world.logged(/dropped reply nobody waits for/)).toEqual([])
  })
}

export { rejection }
