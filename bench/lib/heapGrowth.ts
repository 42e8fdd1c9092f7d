import type { BenchRow } from '../types.js'
import { collectGarbage, concurrently, sleep } from './measure.js'
import { type EventBridge, TimeoutError } from './workspace.js'

// Issue 17's memory rule: heap growth below 10 MB across 1,000,000 invocations, timed-out ones
// included. Every TIMEOUT_EVERY-th call goes to a handler that waits for its deadline and then
// answers LATE_BY_MS too late, so the timeout path and the late reply's drop are both exercised.

export const HEAP_INVOCATIONS = 1_000_000
const TIMEOUT_EVERY = 1_000
/** the slow calls' deadline */
export const HEAP_TIMEOUT_MS = 2
/** the slow handler answers this long after its deadline fired, so its answer always comes too late */
export const LATE_BY_MS = 10

/** The slow handler's body: wait for the deadline's abort, then LATE_BY_MS more. */
export async function answerTooLate(signal: AbortSignal): Promise<void> {
  if (!signal.aborted)
    await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))
  await sleep(LATE_BY_MS)
}

export interface HeapRun {
  suite: string
  /** the bridge whose pending invocations are counted at the end */
  bridge: EventBridge
  /** a call that answers in time */
  fast(): Promise<unknown>
  /** a call to the slow handler with HEAP_TIMEOUT_MS as its timeout */
  slow(): Promise<unknown>
  inFlight: number
  /** a note on what ran where */
  setup: string
}

/** 1,000,000 invocations, every 1000th timing out; rows for the heap growth and the pending calls left. */
export async function heapGrowth(run: HeapRun): Promise<BenchRow[]> {
  let timedOutByCaller = 0
  let expiredBeforePickup = 0
  let unexpected: unknown
  const call = async (index: number) => {
    if (index % TIMEOUT_EVERY !== TIMEOUT_EVERY - 1) return run.fast()
    try {
      await run.slow()
      unexpected ??= new Error('a slow invocation answered in time')
    } catch (error) {
      if (!(error instanceof TimeoutError)) unexpected ??= error
      else if (error.message.includes('before the command was picked up')) expiredBeforePickup++
      else timedOutByCaller++
    }
  }
  const settle = async () => {
    await sleep(HEAP_TIMEOUT_MS + LATE_BY_MS + 50) // late answers of the slow handler arrive and are dropped
    for (let i = 0; i < 3; i++) {
      collectGarbage()
      await new Promise((resolve) => setImmediate(resolve))
    }
  }

  await concurrently(call, 20_000, run.inFlight) // warm-up, including the timeout path
  timedOutByCaller = 0
  expiredBeforePickup = 0
  await settle()
  const before = process.memoryUsage().heapUsed
  const elapsed = await concurrently(call, HEAP_INVOCATIONS, run.inFlight)
  await settle()
  const after = process.memoryUsage().heapUsed
  if (unexpected) throw unexpected
  const timedOut = timedOutByCaller + expiredBeforePickup
  if (timedOut !== HEAP_INVOCATIONS / TIMEOUT_EVERY) {
    throw new Error(`expected ${HEAP_INVOCATIONS / TIMEOUT_EVERY} timed-out invocations, saw ${timedOut}`)
  }
  const mb = (bytes: number) => bytes / (1024 * 1024)
  const rate = Math.round((HEAP_INVOCATIONS * 1000) / elapsed).toLocaleString('en-US')
  return [
    {
      suite: run.suite,
      name: `heap growth across ${HEAP_INVOCATIONS.toLocaleString('en-US')} invocations`,
      unit: 'MB',
      conduit: mb(after - before),
      higherIsBetter: false,
      target: { max: 10 },
      note:
        `${run.setup}; heapUsed after gc: ${mb(before).toFixed(1)} → ${mb(after).toFixed(1)} MB; ${timedOut} invocations timed out ` +
        `(${timedOutByCaller} by the caller's deadline, ${expiredBeforePickup} expired before pickup), ` +
        `${run.inFlight} in flight, ${rate} calls/s`,
    },
    {
      suite: run.suite,
      name: 'pending invocations left after that run',
      unit: 'entries',
      conduit: run.bridge.pendingInvocations,
      higherIsBetter: false,
      target: { max: 0 },
    },
  ]
}
