import { describe, it } from 'vitest'
import type { ConformanceHarness } from './harness.js'
import { commandTests } from './suites/commands.js'
import { eventTests } from './suites/events.js'
import { faultTests } from './suites/faults.js'
import { hostileTests } from './suites/hostile.js'
import { lifecycleTests } from './suites/lifecycle.js'
import type { WorldTest } from './suites/types.js'
import { ConformanceWorld } from './world.js'

export interface ConformanceOptions {
  /** per-test timeout in ms (default 30 s) */
  testTimeout?: number
}

/**
 * The one suite every bridge passes, through the public API only. Each test gets a fresh
 * namespace on the broker. A bridge that lacks a capability declares it; the suite then
 * checks the gap is refused at start() instead of skipping, and prints the declared reason.
 */
export function runBridgeConformance(harness: ConformanceHarness, options: ConformanceOptions = {}): void {
  const timeout = options.testTimeout ?? 30_000
  const test: WorldTest = (name, body) => {
    it(name, { timeout }, async () => {
      const world = await ConformanceWorld.create(harness)
      try {
        await body(world)
      } finally {
        await world.close()
      }
    })
  }

  describe(`${harness.name} bridge conformance`, () => {
    describe('commands', () => commandTests(test))
    describe('subscriptions', () => eventTests(test))
    describe('lifecycle, capabilities and the wire', () => lifecycleTests(test))
    describe('hostile messages and the poison policy', () => hostileTests(test))
    describe('connection faults', () => faultTests(test))
    it('declared capability gaps (printed for the record)', async () => {
      const world = await ConformanceWorld.create(harness)
      try {
        const bridge = world.unstartedBridge()
        const gaps = Object.entries(bridge.capabilities).filter(
          ([, value]) => typeof value === 'object' && !value.supported,
        )
        for (const [name, value] of gaps) {
          console.info(
            `[conformance] ${harness.name} lacks "${name}": ${(value as { reason: string }).reason}`,
          )
        }
        console.info(`[conformance] ${harness.name} maxPayloadBytes: ${bridge.capabilities.maxPayloadBytes}`)
      } finally {
        await world.close()
      }
    })
  })
}
