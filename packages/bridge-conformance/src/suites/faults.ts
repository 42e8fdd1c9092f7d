import { isConduitError } from '@conduit/core'
import { expect } from 'vitest'
import * as d from '../fixtures/definitions.js'
import { calcService } from '../fixtures/services.js'
import { expectDeclaredReason, isNotApplicable, POLL } from './evidence.js'
import type { WorldTest } from './types.js'

/** The rule: a call whose replies were lost fails within this long of the cut. */
const FAIL_WITHIN_MS = 1_000
/** How long we keep waiting to report what happened when the rule is broken. */
const GIVE_UP_MS = 5_000
const RECONNECT = { timeout: 15_000, interval: 20 }

type Settled = { at: number } & ({ rejected: false } | { rejected: true; error: unknown })

/** Network faults on a bridge's own connection (the shared broker keeps running). */
export function faultTests(test: WorldTest): void {
  test("a call in flight when the caller's connection is cut fails within 1 s with a retryable 503 (outcome unknown); the first call after reconnect succeeds", async (world) => {
    const interrupt = world.namespace.interruptConnection
    if (isNotApplicable(interrupt)) {
      expectDeclaredReason(world, 'connection faults', interrupt.notApplicable)
      return
    }
    const server = await world.bridge()
    await world.run(calcService(world.probe, 'A'), server)
    const client = await world.bridge()
    await expect(client.invoke(d.add, { a: 1, b: 1 })).resolves.toMatchObject({ sum: 2 })

    const call = client.invoke(d.hold, { tag: 'cut' }, { timeout: 20_000 })
    const settled: Promise<Settled> = call.then(
      () => ({ at: performance.now(), rejected: false }),
      (error: unknown) => ({ at: performance.now(), rejected: true, error }),
    )
    await expect.poll(() => world.probe.started, POLL).toContain('cut')
    const cutStarted = performance.now()
    await interrupt(client)
    const cut = performance.now()
    const outcome = await Promise.race([
      settled,
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), GIVE_UP_MS).unref()),
    ])
    world.probe.release('cut') // the handler may answer now; nobody waits for that reply any more

    expect(outcome, `the call was still waiting ${GIVE_UP_MS} ms after the cut`).toBeDefined()
    const { at, ...result } = outcome!
    expect(result.rejected, 'the call must fail: its reply cannot arrive').toBe(true)
    const error = (result as { error: unknown }).error as Record<string, unknown>
    expect(isConduitError(error), `expected a ConduitError, got ${String(error)}`).toBe(true)
    expect(error.status).toBe(503)
    expect(error.retryable).toBe(true)
    expect(error.message).toMatch(/outcome is unknown/i)
    const elapsed = Math.max(0, at - cut)
    expect(
      elapsed,
      `failed ${Math.round(elapsed)} ms after the cut (the interrupt itself took ${Math.round(cut - cutStarted)} ms)`,
    ).toBeLessThanOrEqual(FAIL_WITHIN_MS)
    expect(client.pendingInvocations).toBe(0)

    // The bridge reconnects by itself; once it says it is ready, the very first call works.
    await expect.poll(() => client.isReady(), RECONNECT).toBe(true)
    await expect(client.invoke(d.add, { a: 2, b: 3 }, { timeout: 10_000 })).resolves.toMatchObject({ sum: 5 })
  })
}
