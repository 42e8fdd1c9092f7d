import { CapabilityError, PayloadTooLargeError, traceIdOf } from '@conduit/core'
import { expect } from 'vitest'
import * as d from '../fixtures/definitions.js'
import {
  broadcastService,
  calcService,
  ledgerService,
  mailerService,
  watcherService,
} from '../fixtures/services.js'
import { rejection } from './commands.js'
import type { WorldTest } from './types.js'

const POLL = { timeout: 10_000, interval: 20 }
const ONE_MIB = 1024 * 1024
const UNICODE =
  'héllo wörld — 日本語テキスト — مرحبا بالعالم — 🚀👩‍👩‍👧 — e\u0301 — \u2028 — "quotes" \\ back\\slash — \u0000 nul'

export function lifecycleTests(test: WorldTest): void {
  test('stop() of a service waits for handlers in flight, then takes no new messages', async (world) => {
    const server = await world.bridge()
    const instance = await world.run(calcService(world.probe, 'A'), server)
    const client = await world.bridge()
    const call = client.invoke(d.sleep, { ms: 300, tag: 'in-flight' })
    await expect.poll(() => world.probe.started, POLL).toContain('in-flight')
    await instance.stop()
    expect(world.probe.finished).toContain('in-flight')
    await expect(call).resolves.toEqual({ aborted: false })
    const error = await rejection(client.invoke(d.add, { a: 1, b: 2 }, { timeout: 1_000 }))
    expect([503, 504]).toContain(error.status)
  })

  test('stop() of a bridge waits for handlers in flight before disconnecting', async (world) => {
    const server = await world.bridge()
    await world.run(calcService(world.probe, 'A'), server)
    const client = await world.bridge()
    const call = client.invoke(d.sleep, { ms: 300, tag: 'bridge-stop' })
    await expect.poll(() => world.probe.started, POLL).toContain('bridge-stop')
    await server.stop()
    expect(world.probe.finished).toContain('bridge-stop')
    expect(server.isReady()).toBe(false)
    await expect(call).resolves.toEqual({ aborted: false })
  })

  test('capabilities: a subscription needing a missing capability fails start() naming bridge, subscription and capability', async (world) => {
    const cases = [
      { capability: 'durable', subscription: 'onCreated', service: ledgerService },
      { capability: 'everyInstance', subscription: 'onCreated', service: broadcastService },
      { capability: 'wildcards', subscription: 'oneSegment', service: watcherService },
    ] as const
    for (const { capability, subscription, service } of cases) {
      const bridge = await world.bridge()
      const started = world.run(service(world.probe, capability), bridge)
      const declared = bridge.capabilities[capability]
      if (declared.supported) {
        await expect(started).resolves.toBeDefined()
        continue
      }
      const error = await started.then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(error).toBeInstanceOf(CapabilityError)
      const message = (error as Error).message
      expect(message).toContain(bridge.name)
      expect(message).toContain(subscription)
      expect(message).toContain(capability)
      expect(message).toContain(declared.reason)
    }
  })

  test('payload size: 1 MiB round trips, or the declared limit is enforced with a clear error', async (world) => {
    const server = await world.bridge()
    await world.run(calcService(world.probe, 'A'), server)
    const client = await world.bridge()
    const limit = client.capabilities.maxPayloadBytes
    if (limit >= ONE_MIB + 64 * 1024) {
      const blob = 'x'.repeat(ONE_MIB)
      const result = await client.invoke(d.echo, { text: 'big', blob }, { timeout: 15_000 })
      expect(result.blob?.length).toBe(ONE_MIB)
      expect(result.blob === blob).toBe(true)
      return
    }
    const fits = 'x'.repeat(Math.floor(limit / 2))
    await expect(client.invoke(d.echo, { text: 'fits', blob: fits })).resolves.toMatchObject({ text: 'fits' })
    const error = await rejection(client.invoke(d.echo, { text: 'too big', blob: 'x'.repeat(limit + 1) }))
    expect(error).toBeInstanceOf(PayloadTooLargeError)
    expect(error.status).toBe(413)
    expect(error.message).toContain(String(limit))
  })

  test('unicode payloads survive commands and events unchanged', async (world) => {
    await world.run(calcService(world.probe, 'A'), await world.bridge())
    await world.run(mailerService(world.probe, 'M'), await world.bridge())
    const client = await world.bridge()
    await expect(client.invoke(d.echo, { text: UNICODE })).resolves.toMatchObject({ text: UNICODE })
    await client.invoke(d.createItem, { id: 1, text: UNICODE })
    await expect
      .poll(
        () => world.probe.of('cfmailer.onCreated').map((call) => (call.input as { text: string }).text),
        POLL,
      )
      .toEqual([UNICODE])
  })

  test('the trace id continues from invoker to handler to subscriber', async (world) => {
    await world.run(calcService(world.probe, 'A'), await world.bridge())
    await world.run(mailerService(world.probe, 'M'), await world.bridge())
    const client = await world.bridge()
    const traceId = '0af7651916cd43dd8448eb211c80319c'
    const result = await client.invoke(
      d.createItem,
      { id: 1, text: 'traced' },
      { traceparent: `00-${traceId}-b7ad6b7169203331-01` },
    )
    expect(traceIdOf(result.traceparent)).toBe(traceId)
    await expect.poll(() => world.probe.of('cfmailer.onCreated').length, POLL).toBe(1)
    expect(traceIdOf(world.probe.of('cfmailer.onCreated')[0]?.traceparent)).toBe(traceId)

    // without a caller trace, one is started and still continues to the subscriber
    const fresh = await client.invoke(d.createItem, { id: 2, text: 'untraced' })
    expect(traceIdOf(fresh.traceparent)).toMatch(/^[0-9a-f]{32}$/)
    await expect.poll(() => world.probe.of('cfmailer.onCreated').length, POLL).toBe(2)
    expect(traceIdOf(world.probe.of('cfmailer.onCreated')[1]?.traceparent)).toBe(traceIdOf(fresh.traceparent))
  })
}
