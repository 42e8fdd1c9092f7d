import type { EventBridge } from '@conduit/core'
import { expect } from 'vitest'
import { archiveService, ping } from './definitions.js'
import { type FaultBench, TickLedger, TickStream } from './FaultBench.js'
import type { FaultRecorder } from './results.js'

const HEALTH_SAMPLE_MS = 5
const WAIT = { timeout: 15_000, interval: 20 }
/** acknowledged events not yet handled when the broker is killed */
const BACKLOG = 50
/** the broker stays dead at least this long */
const MIN_OUTAGE_MS = 2_000

interface Sample {
  at: number
  ready: boolean
  healthy: boolean
}

export interface SideHealth {
  /** ms from the kill until isReady() was first seen false */
  notReadyAfterMs?: number
  /** ms from the broker serving again until isReady() was seen true (0 if it was already) */
  readyAgainAfterMs?: number
  /** whether isHealthy() stayed true while the bridge was reconnecting */
  healthyThroughout: boolean
  healthyAfterReturn: boolean
}

/** What one broker kill and restart showed; several tests assert on parts of it. */
export interface Outage {
  stream: TickStream
  missing: number[]
  longestEmitMs: number
  outageCall: { ms: number; error?: unknown }
  firstAnswerAfterReturnMs?: number
  health: { server: SideHealth; client: SideHealth }
  streamFault: string
  callFault: string
  healthFault: string
}

function sampler(bridge: EventBridge): { samples: Sample[]; stop: () => void } {
  const samples: Sample[] = []
  const sample = () =>
    samples.push({ at: performance.now(), ready: bridge.isReady(), healthy: bridge.isHealthy() })
  const timer = setInterval(sample, HEALTH_SAMPLE_MS)
  return {
    samples,
    // One last sample: on a loaded machine the interval may not have run since the state the
    // caller waited for (both ready), and the last one recorded would still say not ready.
    stop: () => {
      clearInterval(timer)
      sample()
    },
  }
}

function sideHealth(samples: Sample[], killedAt: number, returnedAt: number): SideHealth {
  const down = samples.find((sample) => sample.at >= killedAt && !sample.ready)
  const lastDown = samples.findLast((sample) => !sample.ready)
  const up = lastDown && samples.find((sample) => sample.at > lastDown.at && sample.ready)
  const during = samples.filter((sample) => sample.at >= killedAt && sample.at < returnedAt)
  const after = samples.at(-1)
  return {
    notReadyAfterMs: down && down.at - killedAt,
    readyAgainAfterMs: up && Math.max(0, up.at - returnedAt),
    healthyThroughout: during.every((sample) => sample.healthy),
    healthyAfterReturn: after?.healthy ?? false,
  }
}

/** which events were lost, and when the broker acknowledged them relative to the kill */
function lostDetail(stream: TickStream, missing: number[], killedAt: number): string {
  const shown = missing.slice(0, 5).map((seq) => {
    const outcome = stream.outcomes.find((o) => o.seq === seq)
    return outcome
      ? `#${seq} acknowledged ${Math.round(outcome.settledAt - killedAt)} ms from the kill`
      : `#${seq}`
  })
  return `${shown.join(', ')}${missing.length > 5 ? `, and ${missing.length - 5} more` : ''}`
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error))
const ms = (value: number | undefined) => (value === undefined ? 'never' : `${Math.round(value)} ms`)

/**
 * A durable tick stream (4 lanes) runs from a client to a service; mid-stream, with at least
 * BACKLOG acknowledged events not yet handled, the broker is killed with SIGKILL, a call is made while it is gone, and once both bridges were seen not ready
 * and the call settled, the broker is started again. Records three rows.
 */
export async function runOutage(bench: FaultBench, recorder: FaultRecorder): Promise<Outage> {
  const prefix = bench.newPrefix()
  const ledger = new TickLedger()
  const server = await bench.bridge(prefix)
  // Closed just before the kill, so that acknowledged events are still queued on the broker or
  // held unacknowledged by the consumer when it dies: those are the ones a crash can lose.
  let gate: Promise<void> | undefined
  let openGate: () => void = () => undefined
  await bench.serve(server, { before: () => gate ?? Promise.resolve(), handled: (seq) => ledger.add(seq) })
  // The archive group subscribes, then its only bridge stops: its events wait on the broker.
  const archived = new TickLedger()
  const archiveBridge = await bench.bridge(prefix)
  await bench.run(
    archiveService((seq) => archived.add(seq)),
    archiveBridge,
  )
  await archiveBridge.stop()
  const client = await bench.bridge(prefix)
  await expect(client.invoke(ping, { n: 0 }, { timeout: 10_000 })).resolves.toEqual({ n: 0 })
  const stream = new TickStream(client, 4)
  await expect.poll(() => stream.acknowledged.length, WAIT).toBeGreaterThanOrEqual(100)
  gate = new Promise<void>((resolve) => {
    openGate = resolve
  })
  await expect
    .poll(() => stream.acknowledged.length - ledger.counts.size, WAIT)
    .toBeGreaterThanOrEqual(BACKLOG)
  const backlog = stream.acknowledged.length - ledger.counts.size

  const watched = { server: sampler(server), client: sampler(client) }
  const killedAt = performance.now()
  await bench.broker.kill()
  const callStarted = performance.now()
  const outageCall: Outage['outageCall'] = await client.invoke(ping, { n: 1 }, { timeout: 10_000 }).then(
    () => ({ ms: performance.now() - callStarted }),
    (error: unknown) => ({ ms: performance.now() - callStarted, error }),
  )
  // The outage lasts until both sides were seen not ready, and at least MIN_OUTAGE_MS (the
  // fault's shape: long enough that emits meet a dead broker, not a blip), then the broker returns.
  await expect
    .poll(
      () =>
        performance.now() - killedAt >= MIN_OUTAGE_MS &&
        [watched.server, watched.client].every((side) =>
          side.samples.some((s) => s.at > killedAt && !s.ready),
        ),
      { timeout: MIN_OUTAGE_MS + 5_000, interval: 20 },
    )
    .toBe(true)
    .catch(() => undefined)
  const outageEnded = performance.now()
  await bench.broker.start()
  const returnedAt = performance.now()
  openGate()
  gate = undefined

  let firstAnswerAfterReturnMs: number | undefined
  await expect
    .poll(
      async () =>
        client.invoke(ping, { n: 2 }, { timeout: 1_000 }).then(
          () => true,
          () => false,
        ),
      WAIT,
    )
    .toBe(true)
    .then(
      () => {
        firstAnswerAfterReturnMs = performance.now() - returnedAt
      },
      () => undefined,
    )
  await expect
    .poll(() => server.isReady() && client.isReady(), { timeout: 5_000, interval: 10 })
    .toBe(true)
    .catch(() => undefined)
  watched.server.stop()
  watched.client.stop()
  await stream.stop()
  await bench.run(
    archiveService((seq) => archived.add(seq)),
    await bench.bridge(prefix),
  )
  const acknowledged = stream.acknowledged
  const allMissing = () => [...ledger.missing(acknowledged), ...archived.missing(acknowledged)]
  await expect
    .poll(() => allMissing().length, WAIT)
    .toBe(0)
    .catch(() => undefined)
  const missing = allMissing()
  const lostBy = (group: string, lost: number[]) =>
    lost.length === 0 ? '' : `; the ${group} lost ${lost.length}: ${lostDetail(stream, lost, killedAt)}`

  const duringOutage = stream.outcomes.filter((o) => o.settledAt >= killedAt && o.startedAt <= returnedAt)
  const longestEmitMs = Math.max(0, ...duringOutage.map((o) => o.settledAt - o.startedAt))
  const failures = stream.failed
  const health = {
    server: sideHealth(watched.server.samples, killedAt, returnedAt),
    client: sideHealth(watched.client.samples, killedAt, returnedAt),
  }
  const outage: Outage = {
    stream,
    missing,
    longestEmitMs,
    outageCall,
    firstAnswerAfterReturnMs,
    health,
    streamFault: 'broker SIGKILL mid-stream, restart',
    callFault: 'calls during broker outage',
    healthFault: 'health across broker kill',
  }
  const outageMs = returnedAt - killedAt
  recorder.record({
    fault: outage.streamFault,
    events: acknowledged.length,
    lost: missing.length,
    duplicates: ledger.duplicates + archived.duplicates,
    recoverMs: firstAnswerAfterReturnMs,
    notes:
      `two consumer groups: one live (${backlog} acknowledged events not yet handled at the kill), one offline until after the restart (every event waited on the broker); lost counts both; broker down ${Math.round(outageMs)} ms (${Math.round(returnedAt - outageEnded)} ms of it booting); ` +
      `${failures.length} emits failed during the outage` +
      (failures[0] ? ` ("${message(failures[0].error)}")` : '') +
      `; longest emit during the outage ${ms(longestEmitMs)}` +
      lostBy('live group', ledger.missing(acknowledged)) +
      lostBy('offline group', archived.missing(acknowledged)),
    passed: false,
  })
  recorder.record({
    fault: outage.callFault,
    events: 0,
    lost: 0,
    duplicates: 0,
    recoverMs: firstAnswerAfterReturnMs,
    notes:
      outageCall.error === undefined
        ? `a call during the outage succeeded after ${ms(outageCall.ms)}`
        : `a call during the outage failed after ${ms(outageCall.ms)}: "${message(outageCall.error)}"`,
    passed: false,
  })
  const describe = (name: string, side: SideHealth) =>
    `${name}: not ready ${ms(side.notReadyAfterMs)} after the kill, ready ${ms(side.readyAgainAfterMs)} after the return, isHealthy() ${side.healthyThroughout ? 'true' : 'false'} while reconnecting`
  recorder.record({
    fault: outage.healthFault,
    events: 0,
    lost: 0,
    duplicates: 0,
    recoverMs: Math.max(
      health.server.readyAgainAfterMs ?? Number.NaN,
      health.client.readyAgainAfterMs ?? Number.NaN,
    ),
    notes: `${describe('server', health.server)}; ${describe('client', health.client)}`,
    passed: false,
  })
  return outage
}
