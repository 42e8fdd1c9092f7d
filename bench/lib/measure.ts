/** Timing helpers shared by the suites. Times are performance.now() milliseconds unless named otherwise. */

/** Forces a full collection when node runs with --expose-gc (as `pnpm bench` does); else a no-op. */
export function collectGarbage(): void {
  globalThis.gc?.()
}

export function hasExposedGc(): boolean {
  return typeof globalThis.gc === 'function'
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[rank]!
}

/** Runs `call` `count` times one after another; returns each call's latency in µs, sorted. */
export async function sequentialLatencies(
  call: () => Promise<unknown>,
  count: number,
): Promise<Float64Array> {
  const latencies = new Float64Array(count)
  for (let i = 0; i < count; i++) {
    const started = process.hrtime.bigint()
    await call()
    latencies[i] = Number(process.hrtime.bigint() - started) / 1000
  }
  return latencies.sort()
}

/** Runs `total` calls with `concurrency` of them in flight at any time; returns the elapsed ms. */
export async function concurrently(
  call: (index: number) => Promise<unknown>,
  total: number,
  concurrency: number,
): Promise<number> {
  let next = 0
  const worker = async () => {
    while (next < total) await call(next++)
  }
  const started = performance.now()
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker))
  return performance.now() - started
}

/** Counts deliveries and lets a driver wait until a given count has arrived. */
export class DeliveryCounter {
  count = 0
  private target = Number.POSITIVE_INFINITY
  private reached: (() => void) | undefined

  /** Call from the consumer for each delivery. */
  hit(): void {
    if (++this.count === this.target) this.reached?.()
  }

  until(target: number): Promise<void> {
    if (this.count >= target) return Promise.resolve()
    return new Promise((resolve) => {
      this.target = target
      this.reached = resolve
    })
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * Picks how many operations make one trial last about `targetMs`, from a short probe run of
 * `probe` operations (`trial(count)` returns the elapsed ms).
 */
export async function sizeTrial(
  trial: (count: number) => Promise<number>,
  probe: number,
  targetMs: number,
  max = 5_000_000,
): Promise<number> {
  const elapsed = Math.max(await trial(probe), 0.001)
  const count = Math.round((probe * targetMs) / elapsed)
  return Math.max(probe, Math.min(max, count))
}

export const rate = (count: number, elapsedMs: number) => (count * 1000) / elapsedMs

/** `min–max` of a set of rates, for a row's note. */
export const spread = (rates: number[]) =>
  `${Math.round(Math.min(...rates)).toLocaleString('en-US')}–${Math.round(Math.max(...rates)).toLocaleString('en-US')}`

export interface AlternatingOptions {
  trials: number
  trialMs: number
  /** smallest operation count a trial is sized from */
  minCount: number
}

/**
 * Median rate over trials of the two sides in ABBA order (conduit, baseline, baseline, conduit,
 * ...): on a shared machine the load drifts, and this order makes a steady drift hit both alike.
 * Process CPU per operation is reported too: it is steadier than the rate under shared load.
 */
export async function alternatingTrials(
  sides: { conduit: (n: number) => Promise<number>; baseline: (n: number) => Promise<number> },
  options: AlternatingOptions,
) {
  const counts = {
    conduit: await sizeTrial(sides.conduit, options.minCount, options.trialMs),
    baseline: await sizeTrial(sides.baseline, options.minCount, options.trialMs),
  }
  const trials = { conduit: [] as number[], baseline: [] as number[] }
  const cpuMicros = { conduit: 0, baseline: 0 }
  for (let trial = 0; trial < options.trials; trial++) {
    const order = trial % 2 === 0 ? (['conduit', 'baseline'] as const) : (['baseline', 'conduit'] as const)
    for (const side of order) {
      collectGarbage()
      const cpu = process.cpuUsage()
      trials[side].push(rate(counts[side], await sides[side](counts[side])))
      const used = process.cpuUsage(cpu)
      cpuMicros[side] += used.user + used.system
    }
  }
  const perOp = (side: 'conduit' | 'baseline') =>
    (cpuMicros[side] / (counts[side] * options.trials)).toFixed(0)
  const cpuNote = `process CPU per op: conduit ${perOp('conduit')} µs, baseline ${perOp('baseline')} µs`
  return { conduit: median(trials.conduit), baseline: median(trials.baseline), trials, cpuNote }
}
