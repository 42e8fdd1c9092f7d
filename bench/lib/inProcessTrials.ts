import { collectGarbage, median, sizeTrial, spread } from './measure.js'

// Throughput trials for in-process cells (the memory suite), where one operation takes a few
// hundred nanoseconds: CPU time is reported in ns, and each trial runs the sides in a fixed order.

type Side = 'conduit' | 'baseline' | 'moleculer'
const SIDES: readonly Side[] = ['conduit', 'baseline', 'moleculer']

/** Each contender runs `count` operations and returns the elapsed ms. */
export type InProcessSides = Record<Side, (count: number) => Promise<number>>

export interface InProcessThroughput {
  /** median operations per second (wall clock) */
  rates: Record<Side, number>
  /** per-trial rates, for the spread */
  trials: Record<Side, number[]>
  /** median process CPU time (user + system, all threads) per operation, ns: robust when the machine is busy */
  cpuNs: Record<Side, number>
  /** how the trials ran, for the note */
  options: { trials: number; trialMs: number }
}

const cpuNow = () => {
  const usage = process.cpuUsage()
  return (usage.user + usage.system) * 1000
}

const table = <T>(value: () => T): Record<Side, T> => ({
  conduit: value(),
  baseline: value(),
  moleculer: value(),
})

/** Median ops/s over alternating trials of the contenders (in this order each trial), so drift hits all alike. */
export async function inProcessTrials(
  contenders: InProcessSides,
  probe: number,
  options: { trials: number; trialMs: number },
): Promise<InProcessThroughput> {
  const counts = table(() => 0)
  for (const side of SIDES) counts[side] = await sizeTrial(contenders[side], probe, options.trialMs)
  const trials = table(() => [] as number[])
  const cpu = table(() => [] as number[])
  for (let trial = 0; trial < options.trials; trial++) {
    for (const side of SIDES) {
      collectGarbage()
      const cpuBefore = cpuNow()
      const elapsed = await contenders[side](counts[side])
      cpu[side].push((cpuNow() - cpuBefore) / counts[side])
      trials[side].push((counts[side] * 1000) / elapsed)
    }
  }
  const rates = table(() => 0)
  const cpuNs = table(() => 0)
  for (const side of SIDES) {
    rates[side] = median(trials[side])
    cpuNs[side] = median(cpu[side])
  }
  return { rates, trials, cpuNs, options }
}

/** The note of a throughput row: how it was measured, the spread, CPU time per operation, and Moleculer's setup. */
export function inProcessNote(
  throughput: InProcessThroughput,
  unit: string,
  what: string,
  moleculerNote: string,
): string {
  const { cpuNs, trials, options } = throughput
  return (
    `median of ${options.trials} alternating trials of ~${options.trialMs} ms; ${unit} conduit ${spread(trials.conduit)}, ` +
    `baseline ${spread(trials.baseline)}, Moleculer ${spread(trials.moleculer)}; CPU per ${what}: conduit ` +
    `${Math.round(cpuNs.conduit)} ns, baseline ${Math.round(cpuNs.baseline)} ns (ratio ` +
    `${(cpuNs.baseline / cpuNs.conduit).toFixed(2)}), Moleculer ${Math.round(cpuNs.moleculer)} ns; ${moleculerNote}`
  )
}
