import { expect } from 'vitest'
import * as d from '../fixtures/definitions.js'
import {
  AWAIT_ABORT_TIMEOUT,
  awaitAbort,
  DEFINED_TIMEOUT,
  definedWindow,
  timingService,
  window,
} from '../fixtures/observed.js'
import { calcService } from '../fixtures/services.js'
import { TEST_RETRY_BACKOFF } from '../world.js'
import { rejection } from './commands.js'
import type { WorldTest } from './types.js'

/** DESIGN: "Timeouts: default 30 s". */
const DEFAULT_TIMEOUT_MS = 30_000
/** How late the handler's signal may fire after the deadline ("at the deadline", not "eventually"). */
const ABORT_SLACK_MS = 100
/** A short drain bound, and what stop() may take beyond it to close listeners and disconnect. */
const DRAIN_MS = 400
const DISCONNECT_SLACK_MS = 1_500

export function deadlineTests(test: WorldTest): void {
  test('the default timeout is 30 s: the deadline on the wire is 30 s after the call', async (world) => {
    await world.run(timingService(world.probe, 'A'), await world.bridge())
    const client = await world.bridge()
    // The handler reads the envelope as it came off the wire: `deadline - time` is the timeout
    // the caller applied, so the rule is checked without waiting 30 s.
    const { window: sent, remaining } = await client.invoke(window, {})
    expect(sent).toBe(DEFAULT_TIMEOUT_MS)
    expect(remaining).toBeGreaterThan(DEFAULT_TIMEOUT_MS - 5_000)
    expect(remaining).toBeLessThanOrEqual(DEFAULT_TIMEOUT_MS)
  })

  test("which timeout wins: the call's over the definition's, the definition's over the default", async (world) => {
    await world.run(timingService(world.probe, 'A'), await world.bridge())
    const client = await world.bridge()
    const windowOf = async (promise: Promise<{ window: number }>) => (await promise).window
    // docs/concepts.md: "in order: the timeout of the call, the timeout of the command
    // definition, the bridge's defaultTimeout (30 s)", whether the call's is longer or shorter.
    expect(await windowOf(client.invoke(definedWindow, {}))).toBe(DEFINED_TIMEOUT)
    expect(await windowOf(client.invoke(definedWindow, {}, { timeout: 4_321 }))).toBe(4_321)
    expect(await windowOf(client.invoke(definedWindow, {}, { timeout: 777 }))).toBe(777)
    expect(await windowOf(client.invoke(window, {}, { timeout: 2_500 }))).toBe(2_500)
    // and the caller enforces the call's shorter timeout, not the definition's
    const started = Date.now()
    const error = await rejection(client.invoke(awaitAbort, { tag: 'short call' }, { timeout: 100 }))
    expect(error.code).toBe('TIMEOUT')
    expect(Date.now() - started).toBeLessThan(AWAIT_ABORT_TIMEOUT / 2)
  })

  test(`the handler's AbortSignal fires at the deadline, at most ${ABORT_SLACK_MS} ms late`, async (world) => {
    await world.run(timingService(world.probe, 'A'), await world.bridge())
    const client = await world.bridge()
    for (const tag of ['first', 'second', 'third']) {
      // The handler answers as soon as its signal fires, so its reply races the caller's own
      // timer for the same deadline (in memory it can win): only the signal's timing is the rule.
      await client.invoke(awaitAbort, { tag }, { timeout: 300 }).catch(() => undefined)
    }
    const late = () => world.probe.of('awaitAbort').map((call) => (call.input as { lateMs: number }).lateMs)
    await expect.poll(() => late().length, { timeout: 2_000, interval: 10 }).toBe(3)
    for (const lateMs of late()) {
      expect(lateMs).toBeGreaterThanOrEqual(-5) // not before the deadline (clock granularity aside)
      expect(lateMs).toBeLessThanOrEqual(ABORT_SLACK_MS)
    }
  })

  test(`stop() waits for handlers in flight only up to the drain timeout (${DRAIN_MS} ms), then returns`, async (world) => {
    // A bridge of its own with a short drain bound; stopped here, and again (a no-op) at the end.
    const server = world.namespace.createBridge({
      logger: world.logger,
      retryBackoff: TEST_RETRY_BACKOFF,
      drainTimeout: DRAIN_MS,
    })
    try {
      await server.start()
      await world.run(calcService(world.probe, 'A'), server)
      const client = await world.bridge()
      // never released before stop(): only the drain bound can end the wait
      // its caller is stopped (pending call rejected) when the world closes
      void client.invoke(d.hold, { tag: 'stuck' }, { timeout: 20_000 }).catch(() => undefined)
      await expect.poll(() => world.probe.started, { timeout: 10_000, interval: 10 }).toContain('stuck')
      const started = Date.now()
      let stoppedAfter: number | undefined
      void server.stop().then(() => {
        stoppedAfter = Date.now() - started
      })
      await expect
        .poll(() => stoppedAfter, { timeout: DRAIN_MS + DISCONNECT_SLACK_MS, interval: 10 })
        .toBeDefined()
      expect(stoppedAfter).toBeGreaterThanOrEqual(DRAIN_MS - 20) // it did wait for the handler
      expect(world.probe.finished).not.toContain('stuck') // and returned while it still ran
    } finally {
      world.probe.releaseAll()
      await server.stop()
    }
  })
}
