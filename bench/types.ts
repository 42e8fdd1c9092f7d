/**
 * One measured cell of `pnpm bench`: Conduit beside a raw baseline doing the same work in the
 * same run. Suites live in bench/suites/<name>.ts and default-export a BenchSuite.
 */
export interface BenchRow {
  /** 'memory', 'nats', 'amqp', 'mqtt', 'http', 'dapr', 'lambda' */
  suite: string
  /** e.g. 'command round trip, 100 in flight' */
  name: string
  /** e.g. 'calls/s', 'events/s', 'ms', 'MB' */
  unit: string
  conduit: number
  /** the raw baseline, measured in the same run */
  baseline?: number
  /** what the baseline is, e.g. 'raw nats.js publish + shared inbox' */
  baselineLabel?: string
  higherIsBetter: boolean
  /** the target: a ratio conduit/baseline (minRatio for throughput, maxRatio for latency), or an absolute max */
  target?: { minRatio?: number; maxRatio?: number; max?: number }
  note?: string
}

export interface BenchSuite {
  name: string
  /** optional: what the suite measures and how, printed above its baselines in docs/benchmarks.md */
  description?: string
  /** true when the suite needs a broker that is not reachable; run.ts reports the reason */
  unavailable?(): Promise<string | undefined>
  run(): Promise<BenchRow[]>
}
