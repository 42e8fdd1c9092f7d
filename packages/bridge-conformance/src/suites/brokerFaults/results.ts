import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

// What the broker-fault group measured, per bridge: each test records its row as soon as it has
// the numbers (before it asserts, so a failing run shows its real numbers too); afterAll writes
// results/broker-faults/<bridge>.json and renders docs/reliability.md from every bridge's file.

const RESULTS_DIR = fileURLToPath(new URL('../../../results/broker-faults/', import.meta.url))
const RELIABILITY_DOC = fileURLToPath(new URL('../../../../../docs/reliability.md', import.meta.url))

export interface FaultRow {
  fault: string
  /** durable events whose emit resolved (acknowledged by the broker) */
  events: number
  /** acknowledged events never handled */
  lost: number
  /** handler runs beyond the first per event (at-least-once redeliveries) */
  duplicates: number
  /** ms from the broker's return (or the kill) until the service worked again; undefined where not measured */
  recoverMs?: number
  /** what else was seen, e.g. how emits and calls behaved during the outage */
  notes: string
  passed: boolean
  /** the bridge declares that this fault can lose events, and why (the row passes with its loss shown) */
  declaredGap?: string
}

export interface BridgeFaultResults {
  bridge: string
  broker?: string
  notApplicable?: string
  rows: FaultRow[]
  measuredAt: string
}

export class FaultRecorder {
  private readonly rows = new Map<string, FaultRow>()
  broker: string | undefined

  constructor(
    private readonly bridge: string,
    private readonly notApplicable?: string,
  ) {}

  record(row: FaultRow): void {
    this.rows.set(row.fault, row)
  }

  /** marks a recorded row as a declared gap: its losses are expected and explained */
  declareGap(fault: string, reason: string): void {
    const row = this.rows.get(fault)
    if (row) row.declaredGap = reason
  }

  /** marks a recorded row as passed once its test's assertions held */
  pass(fault: string): void {
    const row = this.rows.get(fault)
    if (row) row.passed = true
  }

  /** Writes this bridge's file and renders the reliability page from all of them. */
  save(): void {
    // a run that filtered every test of the group out measured nothing: keep the last results
    if (this.rows.size === 0 && !this.notApplicable) return
    mkdirSync(RESULTS_DIR, { recursive: true })
    const results: BridgeFaultResults = {
      bridge: this.bridge,
      broker: this.broker,
      notApplicable: this.notApplicable,
      rows: [...this.rows.values()],
      measuredAt: new Date().toISOString(),
    }
    writeAtomically(`${RESULTS_DIR}${fileName(this.bridge)}.json`, `${JSON.stringify(results, null, 2)}\n`)
    writeAtomically(RELIABILITY_DOC, renderReliability(readAll()))
  }
}

/** Bridges' suites run in parallel workers: a reader sees one whole version or the other. */
function writeAtomically(path: string, text: string): void {
  const temporary = `${path}.${process.pid}.tmp`
  writeFileSync(temporary, text)
  renameSync(temporary, path)
}

function fileName(bridge: string): string {
  return bridge.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '')
}

function readAll(): BridgeFaultResults[] {
  return readdirSync(RESULTS_DIR)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => JSON.parse(readFileSync(`${RESULTS_DIR}${name}`, 'utf8')) as BridgeFaultResults)
}

const verdict = (row: FaultRow) => (!row.passed ? '**FAIL**' : row.declaredGap ? 'declared gap' : 'pass')

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ')

export function renderReliability(all: readonly BridgeFaultResults[]): string {
  const lines = [
    '# Reliability under broker faults',
    '',
    '<!-- Written by the conformance suite\'s "broker faults" group (packages/bridge-conformance/src/suites/brokerFaults);',
    '     do not edit by hand: run `npx vitest run packages/<bridge>/test/conformance.test.ts -t "broker faults"`. -->',
    '',
    'Each broker bridge is put through real faults on a private broker the suite starts on a',
    'non-standard port (the shared brokers are never touched): the broker killed with SIGKILL mid-stream',
    'and started again, one of two consumer processes killed with SIGKILL with events in flight, a slow',
    "consumer under a burst of 3x the broker's default queue limit, calls during an outage, and health",
    'while the broker is gone and after a client gave up. **Events** counts durable events whose emit',
    'resolved (the broker acknowledged them); **lost** those never handled; **duplicates** extra handler',
    'runs (delivery is at least once, so they are counted, not hidden); **recovery** the time from the',
    "broker's return until the service answered again.",
    '',
    '| Bridge | Fault | Events | Lost | Duplicates | Recovery | Result | Notes |',
    '| --- | --- | ---: | ---: | ---: | ---: | --- | --- |',
  ]
  for (const results of all) {
    if (results.notApplicable) {
      lines.push(`| ${results.bridge} | not applicable | | | | | | ${cell(results.notApplicable)} |`)
      continue
    }
    for (const row of results.rows) {
      const recovery = row.recoverMs === undefined ? '' : `${Math.round(row.recoverMs)} ms`
      lines.push(
        `| ${results.bridge} | ${cell(row.fault)} | ${row.events} | ${row.lost} | ${row.duplicates} | ${recovery} | ${verdict(row)} | ${cell(row.declaredGap ? `declared gap: ${row.declaredGap}; ${row.notes}` : row.notes)} |`,
      )
    }
  }
  lines.push('')
  for (const results of all) {
    if (results.broker) lines.push(`- ${results.bridge}: ${results.broker}; measured ${results.measuredAt}`)
  }
  lines.push('')
  return lines.join('\n')
}
