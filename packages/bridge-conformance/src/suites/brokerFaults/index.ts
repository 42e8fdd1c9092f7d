import { isConduitError } from '@conduit/core'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import type { ConformanceHarness } from '../../harness.js'
import { isNotApplicable } from '../evidence.js'
import { FaultBench, TickLedger, TickStream } from './FaultBench.js'
import { type Outage, runOutage } from './outage.js'
import { FaultRecorder } from './results.js'

/** Each event handled within this long of the last acknowledged emit (redeliveries included). */
const DELIVERED_WITHIN = { timeout: 15_000, interval: 50 }
const TEST_TIMEOUT = 90_000

function printable(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error)
}

/**
 * Faults of the broker itself, on a private broker the group starts once per test file on a
 * non-standard port and kills by pid (the shared brokers are never touched). Every number is
 * recorded for docs/reliability.md before it is asserted.
 */
export function brokerFaultTests(harness: ConformanceHarness): void {
  const faults = harness.brokerFaults
  if (isNotApplicable(faults)) {
    it('broker faults are declared not applicable, with the reason (printed for the record)', () => {
      expect(faults.notApplicable.trim().length).toBeGreaterThanOrEqual(10)
      expect(faults.notApplicable).toMatch(/\p{L}+\s+\p{L}+/u)
      console.info(
        `[conformance] ${harness.name} declares broker faults not applicable: ${faults.notApplicable}`,
      )
      new FaultRecorder(harness.name, faults.notApplicable).save()
    })
    return
  }
  const recorder = new FaultRecorder(harness.name)
  let bench: FaultBench
  let outage: Promise<Outage> | undefined
  const theOutage = () => {
    outage ??= (async () => {
      await faults.beforeBrokerKill?.(bench.broker)
      return runOutage(bench, recorder)
    })()
    return outage
  }

  beforeAll(async () => {
    bench = await FaultBench.start(faults)
    recorder.broker = `private ${bench.broker.product} on 127.0.0.1:${bench.broker.port}`
  }, 120_000)
  afterEach(() => bench?.closeTest())
  afterAll(async () => {
    await bench?.dispose()
    recorder.save()
  }, 30_000)

  it('kill -9 of one of two consumer processes with durable events in flight: every acknowledged event is handled (0 lost; duplicates counted)', {
    timeout: TEST_TIMEOUT,
  }, async () => {
    const fault = 'consumer process SIGKILL'
    const prefix = bench.newPrefix()
    const ledger = new TickLedger()
    const doomed = bench.spawnConsumer(prefix, ledger, 5)
    const survivor = bench.spawnConsumer(prefix, ledger, 5)
    await Promise.all([doomed.ready, survivor.ready])
    const emitter = await bench.bridge(prefix)
    const stream = new TickStream(emitter, 8, 400)
    // Kill it while it is busy: it has handled some and holds more.
    await expect.poll(() => doomed.handledHere, DELIVERED_WITHIN).toBeGreaterThanOrEqual(20)
    const killedAt = performance.now()
    doomed.child.kill('SIGKILL')
    await stream.done
    const acknowledged = stream.acknowledged
    await expect
      .poll(() => ledger.missing(acknowledged).length, DELIVERED_WITHIN)
      .toBe(0)
      .catch(() => undefined)
    const missing = ledger.missing(acknowledged)
    recorder.record({
      fault,
      events: acknowledged.length,
      lost: missing.length,
      duplicates: ledger.duplicates,
      recoverMs: performance.now() - killedAt,
      notes: `400 events over 8 lanes, 2 consumer processes (5 ms per event); ${stream.failed.length} emits failed; the killed one had handled ${doomed.handledHere}; recovery = kill until every event was handled`,
      passed: false,
    })
    expect(stream.failed.map((outcome) => printable(outcome.error))).toEqual([])
    expect(missing, 'acknowledged events never handled').toEqual([])
    recorder.pass(fault)
  })

  it("slow durable consumer and a burst of 3x the broker's default queue limit: 0 lost", {
    timeout: TEST_TIMEOUT,
  }, async () => {
    const fault = `slow consumer, burst of 3x ${faults.defaultQueueLimit.events}`
    const prefix = bench.newPrefix()
    const ledger = new TickLedger()
    let openGate: () => void = () => undefined
    const gate = new Promise<void>((resolve) => {
      openGate = resolve
    })
    // The consumer takes nothing off its queue until the whole burst is acknowledged.
    await bench.serve(await bench.bridge(prefix), { before: () => gate, handled: (seq) => ledger.add(seq) })
    const emitter = await bench.bridge(prefix)
    const burst = 3 * faults.defaultQueueLimit.events
    const started = performance.now()
    const stream = new TickStream(emitter, 32, burst)
    await stream.done
    openGate()
    const acknowledged = stream.acknowledged
    await expect
      .poll(() => ledger.missing(acknowledged).length, DELIVERED_WITHIN)
      .toBe(0)
      .catch(() => undefined)
    const missing = ledger.missing(acknowledged)
    recorder.record({
      fault,
      events: acknowledged.length,
      lost: missing.length,
      duplicates: ledger.duplicates,
      notes: `default queue limit: ${faults.defaultQueueLimit.source}; burst emitted and handled in ${Math.round(performance.now() - started)} ms; ${stream.failed.length} emits failed`,
      passed: false,
    })
    expect(stream.failed.map((outcome) => printable(outcome.error))).toEqual([])
    expect(acknowledged.length).toBe(burst)
    expect(missing.length, `${missing.length} acknowledged events never handled`).toBe(0)
    recorder.pass(fault)
  })

  it('broker SIGKILL mid-stream, then restarted: every event whose emit resolved is handled; duplicates counted; emits during the outage fail fast or wait a bounded time', {
    timeout: TEST_TIMEOUT,
  }, async () => {
    const result = await theOutage()
    const bound = faults.emitWaitBoundMs + 1_000
    for (const outcome of result.stream.failed) {
      const error = outcome.error as Record<string, unknown>
      expect(isConduitError(error), `an emit failed with ${printable(error)}`).toBe(true)
      expect(error.status).toBe(503)
      expect(error.retryable).toBe(true)
    }
    expect(
      result.longestEmitMs,
      `an emit waited longer than the documented ${faults.emitWaitBoundMs} ms`,
    ).toBeLessThanOrEqual(bound)
    const declaredLoss = faults.brokerCrashLoss
    if (declaredLoss === undefined) {
      expect(result.missing, 'acknowledged events never handled').toEqual([])
    } else {
      // A declared gap: the loss is published with its reason, never hidden or required to be 0.
      const reason = declaredLoss.notApplicable
      expect(reason.trim().length, 'the declared reason must be given').toBeGreaterThanOrEqual(10)
      expect(reason, 'the declared reason must be a sentence').toMatch(/\p{L}+\s+\p{L}+/u)
      console.info(
        `[conformance] ${harness.name} declares durable delivery across a broker crash lossy (${result.missing.length} lost): ${reason}`,
      )
      recorder.declareGap(result.streamFault, declaredLoss.notApplicable)
    }
    recorder.pass(result.streamFault)
  })

  it('calls during a broker outage fail fast with a retryable 503; the service answers again after the broker returns, without a restart', {
    timeout: TEST_TIMEOUT,
  }, async () => {
    const result = await theOutage()
    expect(result.outageCall.error, 'a call while the broker is gone must fail').toBeDefined()
    const error = result.outageCall.error as Record<string, unknown>
    expect(isConduitError(error), `the call failed with ${printable(error)}`).toBe(true)
    expect(error.status).toBe(503)
    expect(error.retryable).toBe(true)
    expect(
      result.outageCall.ms,
      'the call must fail fast (within 1 s), not wait for the broker to come back',
    ).toBeLessThanOrEqual(1_000)
    expect(result.firstAnswerAfterReturnMs, 'the same instance answers again').toBeDefined()
    recorder.pass(result.callFault)
  })

  it('health: isReady() goes false within 1 s of the kill and true within 2 s of the broker serving again; isHealthy() stays true while reconnecting', {
    timeout: TEST_TIMEOUT,
  }, async () => {
    const result = await theOutage()
    for (const side of [result.health.server, result.health.client]) {
      expect(side.notReadyAfterMs, 'isReady() still true 1 s after the kill').toBeDefined()
      expect(side.notReadyAfterMs!).toBeLessThanOrEqual(1_000)
      expect(side.readyAgainAfterMs, 'isReady() never came back').toBeDefined()
      expect(side.readyAgainAfterMs!).toBeLessThanOrEqual(2_000)
      expect(side.healthyAfterReturn, 'isHealthy() after the broker returned').toBe(true)
      // Liveness (DESIGN.md: /healthz is false once a client gave up for good): a client that
      // is still reconnecting is alive, and an orchestrator must not restart it for the outage.
      expect(
        side.healthyThroughout,
        'isHealthy() went false while the client was still reconnecting (it had not given up)',
      ).toBe(true)
    }
    recorder.pass(result.healthFault)
  })

  it('health: a client that has given up reconnecting for good reports isHealthy() false', {
    timeout: TEST_TIMEOUT,
  }, async () => {
    const fault = 'client gave up for good'
    if (isNotApplicable(faults.givingUp)) {
      expect(faults.givingUp.notApplicable.trim().length).toBeGreaterThanOrEqual(10)
      console.info(
        `[conformance] ${harness.name} declares giving up not applicable: ${faults.givingUp.notApplicable}`,
      )
      recorder.record({
        fault,
        events: 0,
        lost: 0,
        duplicates: 0,
        notes: `not applicable: ${faults.givingUp.notApplicable}`,
        passed: true,
      })
      return
    }
    const quitter = await bench.bridge(bench.newPrefix(), faults.givingUp)
    expect(quitter.isHealthy()).toBe(true)
    const killedAt = performance.now()
    await bench.broker.kill()
    let gaveUpMs: number | undefined
    await expect
      .poll(() => quitter.isHealthy(), { timeout: 20_000, interval: 20 })
      .toBe(false)
      .then(
        () => {
          gaveUpMs = performance.now() - killedAt
        },
        () => undefined,
      )
    recorder.record({
      fault,
      events: 0,
      lost: 0,
      duplicates: 0,
      notes:
        gaveUpMs === undefined
          ? 'isHealthy() stayed true for 20 s after the client gave up'
          : `isHealthy() false ${Math.round(gaveUpMs)} ms after the kill (options ${JSON.stringify(faults.givingUp)})`,
      passed: false,
    })
    expect(gaveUpMs, 'isHealthy() must go false once the client stopped reconnecting').toBeDefined()
    recorder.pass(fault)
  })
}
