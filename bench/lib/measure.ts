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
  constructor(readonly name = 'events') {}
  count = 0
  private target = Number.POSITIVE_INFINITY
  private reached: (() => void) | undefined

  /** Call from the consumer for each delivery. Kept to a compare and an add: it is timed too. */
  hit(): void {
    if (++this.count === this.target) this.reached?.()
  }

  /**
   * Resolves once `target` deliveries were counted. Rejects, saying how many arrived, when none
   * came for `idleMs`: a lost at-most-once event must fail the suite with a reason, not hang it.
   * The watchdog compares counts between its ticks, so a delivery costs no clock read.
   */
  until(target: number, idleMs = 5_000): Promise<void> {
    if (this.count >= target) return Promise.resolve()
    return new Promise((resolve, reject) => {
      let seen = this.count
      let idleSince = performance.now()
      const watchdog = setInterval(() => {
        if (this.count !== seen) {
          seen = this.count
          idleSince = performance.now()
          return
        }
        if (performance.now() - idleSince < idleMs) return
        clearInterval(watchdog)
        this.reached = undefined
        this.target = Number.POSITIVE_INFINITY
        reject(
          new Error(`${this.name}: ${this.count} of ${target} delivered, then none for ${idleMs} ms (lost)`),
        )
      }, 250)
      this.target = target
      this.reached = () => {
        clearInterval(watchdog)
        resolve()
      }
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

/** One contender of a cell: runs `count` operations and returns the elapsed ms. */
export type TrialSide = (count: number) => Promise<number>

/** Conduit and its raw baseline, plus any further contenders (a peer framework, a second raw pattern). */
export type TrialSides<S extends string> = { conduit: TrialSide; baseline: TrialSide } & Record<S, TrialSide>

/**
 * Median rate over trials of every side in ABBA order (conduit, baseline, ..., ..., baseline,
 * conduit, ...): on a shared machine the load drifts, and this order makes a steady drift hit all
 * alike. Process CPU per operation is reported too: it is steadier than the rate under shared load.
 */
export async function alternatingTrials<S extends string = never>(
  sides: TrialSides<S>,
  options: AlternatingOptions,
) {
  type Side = 'conduit' | 'baseline' | S
  const all = sides as Record<Side, TrialSide>
  const names = Object.keys(sides) as Side[]
  const table = <T>(value: () => T) =>
    Object.fromEntries(names.map((name) => [name, value()])) as Record<Side, T>
  const counts = table(() => 0)
  for (const name of names) counts[name] = await sizeTrial(all[name], options.minCount, options.trialMs)
  const trials = table(() => [] as number[])
  const cpuMicros = table(() => 0)
  for (let trial = 0; trial < options.trials; trial++) {
    for (const side of trial % 2 === 0 ? names : [...names].reverse()) {
      collectGarbage()
      const cpu = process.cpuUsage()
      trials[side].push(rate(counts[side], await all[side](counts[side])))
      const used = process.cpuUsage(cpu)
      cpuMicros[side] += used.user + used.system
    }
  }
  const rates = table(() => 0)
  for (const name of names) rates[name] = median(trials[name])
  const perOp = (side: Side) => `${side} ${(cpuMicros[side] / (counts[side] * options.trials)).toFixed(0)} µs`
  const cpuNote = `process CPU per op: ${names.map(perOp).join(', ')}`
  // named sides typed as such, so a caller typed with `TrialSides<string>` still reads them without a check
  type Named<T> = Record<Side, T> & { conduit: T; baseline: T }
  return {
    conduit: rates.conduit,
    baseline: rates.baseline,
    rates: rates as Named<number>,
    trials: trials as Named<number[]>,
    cpuNote,
  }
}

/**
 * Emits `count` events (`inFlight` emits at once) and waits until all were consumed, never more
 * than `window` ahead of the consumer, so a fast publisher never makes a slow consumer. Returns
 * the elapsed ms. For emits that resolve at once (no confirm), it yields to I/O every 1,000.
 */
export async function driveEvents(
  emit: () => Promise<unknown>,
  counter: DeliveryCounter,
  count: number,
  { inFlight = 1, window = 5_000 }: { inFlight?: number; window?: number } = {},
): Promise<number> {
  const base = counter.count
  const started = performance.now()
  for (let sent = 0; sent < count; ) {
    const chunk = Math.min(1_000, count - sent)
    await concurrently(emit, chunk, inFlight)
    sent += chunk
    // let the socket write and the subscriber read (publishes alone never yield to I/O)
    await new Promise((resolve) => setImmediate(resolve))
    if (sent - (counter.count - base) > window) await counter.until(base + sent - window)
  }
  await counter.until(base + count)
  return performance.now() - started
}
