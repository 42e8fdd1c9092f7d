import os from 'node:os'
import type { BenchRow } from '../types.js'

/** The peer framework of the peer columns; one peer for now. */
export const PEER_NAME = 'Moleculer'

/** A row as reported: the suite's measurement plus what run.ts derived from it. */
export interface RowResult extends BenchRow {
  /** conduit / baseline, when there is a positive baseline */
  ratio?: number
  /** conduit / peer, when there is a positive peer measurement (below 1 is better for latency) */
  peerRatio?: number
  /** undefined when the row has no target */
  pass?: boolean
  /** why it failed, e.g. 'ratio 0.31 < 0.4' */
  verdict?: string
}

export type SuiteStatus = 'ran' | 'unavailable' | 'crashed' | 'not selected'

export interface SuiteResult {
  name: string
  status: SuiteStatus
  /** unavailable / crashed / not selected: why */
  reason?: string
  description?: string
  durationMs?: number
  /** set when the suite was not selected and its rows are carried over from the run of this date */
  measuredAt?: string
  rows: RowResult[]
}

export interface Machine {
  node: string
  platform: string
  arch: string
  cpuModel: string
  cores: number
  memoryGiB: number
  /** 1, 5 and 15 minute load averages when the run started: a busy machine skews absolute numbers */
  loadAverage: number[]
  /** what `@conduit/*` resolved to: the built packages (`pnpm bench`) or the sources through tsx */
  conduitFrom?: 'dist' | 'src'
}

export interface RunResult {
  date: string
  /** suite names given on the command line; empty means all */
  filter: string[]
  machine: Machine
  suites: SuiteResult[]
}

export function describeMachine(): Machine {
  const cpus = os.cpus()
  return {
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    arch: os.arch(),
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadAverage: os.loadavg().map((load) => Math.round(load * 100) / 100),
    conduitFrom: import.meta.resolve('@conduit/core').includes('/dist/') ? 'dist' : 'src',
  }
}

const positive = (value: number | undefined): value is number =>
  value !== undefined && Number.isFinite(value) && value > 0

/** The failures of one pair of ratio bounds, e.g. 'ratio 0.31 < 0.4'. */
function ratioFailures(
  what: string,
  ratio: number | undefined,
  min: number | undefined,
  max: number | undefined,
  missing: string,
): string[] {
  if (min === undefined && max === undefined) return []
  if (ratio === undefined) return [missing]
  const failures: string[] = []
  if (min !== undefined && !(ratio >= min)) failures.push(`${what} ${ratio.toFixed(2)} < ${min}`)
  if (max !== undefined && !(ratio <= max)) failures.push(`${what} ${ratio.toFixed(2)} > ${max}`)
  return failures
}

/** Derives the ratios and pass/fail from a row's target. Several target fields must all hold. */
export function evaluate(row: BenchRow): RowResult {
  const result: RowResult = { ...row }
  const { baseline, conduit, peer, target } = row
  if (positive(baseline)) result.ratio = conduit / baseline
  if (positive(peer?.value)) result.peerRatio = conduit / peer.value
  if (!target) return result
  const failures: string[] = []
  if (!Number.isFinite(conduit)) failures.push(`no valid measurement (${conduit})`)
  failures.push(
    ...ratioFailures('ratio', result.ratio, target.minRatio, target.maxRatio, 'no baseline to compare with'),
    ...ratioFailures(
      `conduit ÷ ${PEER_NAME}`,
      result.peerRatio,
      target.minPeerRatio,
      target.maxPeerRatio,
      `no ${PEER_NAME} measurement to compare with`,
    ),
  )
  if (target.max !== undefined && !(conduit <= target.max)) {
    failures.push(`${formatNumber(conduit)} ${row.unit} > ${target.max} ${row.unit}`)
  }
  result.pass = failures.length === 0
  if (failures.length > 0) result.verdict = failures.join('; ')
  return result
}

/** Human-sized numbers: thousands separators for big ones, three significant digits for small ones. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value)
  const abs = Math.abs(value)
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US')
  if (abs >= 100) return value.toFixed(0)
  if (abs >= 10) return value.toFixed(1)
  if (abs === 0) return '0'
  return value.toPrecision(3)
}

export function formatTarget(row: BenchRow): string {
  const { target } = row
  if (!target) return ''
  const parts: string[] = []
  if (target.minRatio !== undefined) parts.push(`≥ ${target.minRatio}× baseline`)
  if (target.maxRatio !== undefined) parts.push(`≤ ${target.maxRatio}× baseline`)
  if (target.minPeerRatio !== undefined) parts.push(`≥ ${target.minPeerRatio}× ${PEER_NAME}`)
  if (target.maxPeerRatio !== undefined) parts.push(`≤ ${target.maxPeerRatio}× ${PEER_NAME}`)
  if (target.max !== undefined) parts.push(`≤ ${target.max} ${row.unit}`)
  return parts.join(', ')
}

const ratioText = (ratio: number | undefined) => (ratio === undefined ? '' : `${ratio.toFixed(2)}×`)

export function formatRatio(row: RowResult): string {
  return ratioText(row.ratio)
}

export function formatPeerRatio(row: RowResult): string {
  return ratioText(row.peerRatio)
}

export function formatValue(value: number | undefined, unit: string): string {
  return value === undefined ? '' : `${formatNumber(value)} ${unit}`
}
