import type { CapabilityName } from '@conduit/core'
import { describe, expect, it } from 'vitest'
import type { ConformanceHarness } from './harness.js'
import { brokerFaultTests } from './suites/brokerFaults/index.js'
import { commandTests } from './suites/commands.js'
import { deadlineTests } from './suites/deadlines.js'
import { deliveryTests } from './suites/delivery.js'
import { eventTests } from './suites/events.js'
import { expectDeclaredReason } from './suites/evidence.js'
import { faultTests } from './suites/faults.js'
import { hostileTests } from './suites/hostile.js'
import { lifecycleTests } from './suites/lifecycle.js'
import { observabilityTests } from './suites/observability.js'
import type { WorldTest } from './suites/types.js'
import { ConformanceWorld } from './world.js'

const CAPABILITY_NAMES: readonly CapabilityName[] = [
  'requestReply',
  'durable',
  'everyInstance',
  'wildcards',
  'noHandlerDetection',
  'deadLetterInspection',
]
/** no real broker carries less; a smaller limit is a misread setting */
const MIN_PAYLOAD_LIMIT = 64 * 1024

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
    describe('delivery guarantees', () => deliveryTests(test))
    describe('lifecycle, capabilities and the wire', () => lifecycleTests(test))
    describe('hostile messages and the poison policy', () => hostileTests(test))
    describe('connection faults', () => faultTests(test))
    describe('broker faults on a private broker', () => brokerFaultTests(harness))
    describe('deadlines and draining', () => deadlineTests(test))
    describe('trace context, logs, spans and metrics', () => observabilityTests(test))
    test('every declared capability gap of the started bridge gives its reason (printed for the record)', async (world) => {
      // Capabilities may be settled only on connect (NATS without JetStream): read the started bridge's.
      const bridge = await world.bridge()
      const capabilities = bridge.capabilities
      for (const name of CAPABILITY_NAMES) {
        const capability = capabilities[name]
        expect(typeof capability?.supported, `capability "${name}" must be declared`).toBe('boolean')
        if (!capability.supported) expectDeclaredReason(world, `"${name}"`, capability.reason)
      }
      const limit = capabilities.maxPayloadBytes
      expect(
        limit === Number.POSITIVE_INFINITY || Number.isSafeInteger(limit),
        `maxPayloadBytes ${limit}`,
      ).toBe(true)
      expect(capabilities.maxPayloadBytes).toBeGreaterThanOrEqual(MIN_PAYLOAD_LIMIT)
      console.info(`[conformance] ${harness.name} maxPayloadBytes: ${capabilities.maxPayloadBytes}`)
    })
  })
}
