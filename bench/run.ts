/**
 * `pnpm bench [suite ...]`: runs every bench/suites/*.ts (or the named ones) one after another,
 * prints the table, writes bench/results/<timestamp>.json and latest.json, and rewrites
 * docs/benchmarks.md. Exits 0 even when a target is missed (the report says so); non-zero only
 * when a suite cannot be loaded or crashes.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { collectGarbage } from './lib/measure.js'
import { consoleReport, markdownReport } from './lib/report.js'
import { describeMachine, evaluate, type RunResult, type SuiteResult } from './lib/results.js'
import type { BenchSuite } from './types.js'

// Runtime logs would interleave with the report; a suite may still set its own logger.
process.env.CONDUIT_LOG_LEVEL ??= 'warn'

const root = new URL('../', import.meta.url)
const suitesDir = new URL('bench/suites/', root)
const resultsDir = new URL('bench/results/', root)
const docsFile = new URL('docs/benchmarks.md', root)
/** a suite that has not finished after this long counts as crashed */
const SUITE_TIMEOUT_MS = Number(process.env.BENCH_SUITE_TIMEOUT_MS ?? 15 * 60_000)

const log = (line: string) => process.stderr.write(`${line}\n`)
const message = (error: unknown) => (error instanceof Error ? (error.stack ?? error.message) : String(error))
const firstLine = (text: string) => text.split('\n')[0]!

function isSuite(value: unknown): value is BenchSuite {
  const suite = value as BenchSuite | undefined
  return (
    typeof suite === 'object' &&
    suite !== null &&
    typeof suite.name === 'string' &&
    typeof suite.run === 'function'
  )
}

// Errors nobody awaited (a stray socket, a forgotten promise) are charged to the suite running.
let strayErrors: unknown[] = []
process.on('unhandledRejection', (error) => void strayErrors.push(error))

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

async function runSuite(file: string): Promise<SuiteResult> {
  const fileName = file.replace(/\.ts$/, '')
  let suite: BenchSuite
  try {
    const module = (await import(new URL(file, suitesDir).href)) as { default?: unknown }
    if (!isSuite(module.default)) throw new Error('its default export is not a BenchSuite ({ name, run })')
    suite = module.default
  } catch (error) {
    return {
      name: fileName,
      status: 'crashed',
      reason: `could not load bench/suites/${file}: ${message(error)}`,
      rows: [],
    }
  }
  const base = { name: suite.name, ...(suite.description ? { description: suite.description } : {}) }
  const started = performance.now()
  strayErrors = []
  try {
    const reason = await suite.unavailable?.()
    if (reason) return { ...base, status: 'unavailable', reason, rows: [] }
    log(`${suite.name}: running...`)
    collectGarbage()
    const rows = await withTimeout(suite.run(), SUITE_TIMEOUT_MS, `suite ${suite.name}`)
    if (strayErrors.length > 0) throw strayErrors[0]
    const durationMs = Math.round(performance.now() - started)
    log(`${suite.name}: ${rows.length} cells in ${(durationMs / 1000).toFixed(1)} s`)
    return { ...base, status: 'ran', durationMs, rows: rows.map(evaluate) }
  } catch (error) {
    log(`${suite.name}: crashed: ${message(error)}`)
    const durationMs = Math.round(performance.now() - started)
    return { ...base, status: 'crashed', reason: firstLine(message(error)), durationMs, rows: [] }
  }
}

/**
 * The suites of the last run that measured something, keyed by name: a run of only some suites
 * (`pnpm bench lambda`) keeps the others' rows, marked with the date they were measured.
 */
async function previousSuites(): Promise<Map<string, SuiteResult>> {
  try {
    const last = JSON.parse(await readFile(new URL('latest.json', resultsDir), 'utf8')) as RunResult
    const kept = last.suites
      .filter((suite) => suite.status === 'ran')
      .map((suite) => ({ ...suite, measuredAt: suite.measuredAt ?? last.date }))
    return new Map(kept.map((suite) => [suite.name, suite]))
  } catch {
    return new Map()
  }
}

async function main(): Promise<number> {
  const filter = process.argv.slice(2).filter((arg) => !arg.startsWith('-'))
  const files = (await readdir(suitesDir))
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
    .sort()
  const fileNames = new Set(files.map((file) => file.replace(/\.ts$/, '')))
  const unknown = filter.filter((name) => !fileNames.has(name))
  if (unknown.length > 0) {
    log(`unknown suite(s): ${unknown.join(', ')}; available: ${[...fileNames].join(', ')}`)
    return 2
  }

  const date = new Date()
  const machine = describeMachine() // before the run: its load average is the other processes'
  const previous = await previousSuites()
  const suites: SuiteResult[] = []
  for (const file of files) {
    const name = file.replace(/\.ts$/, '')
    if (filter.length === 0 || filter.includes(name)) suites.push(await runSuite(file))
    else
      suites.push(
        previous.get(name) ?? {
          name,
          status: 'not selected',
          reason: 'not named on the command line',
          rows: [],
        },
      )
  }

  const result: RunResult = { date: date.toISOString(), filter, machine, suites }
  const json = `${JSON.stringify(result, null, 2)}\n`
  await mkdir(resultsDir, { recursive: true })
  const stamped = new URL(`${result.date.replaceAll(':', '-')}.json`, resultsDir)
  await writeFile(stamped, json)
  await writeFile(new URL('latest.json', resultsDir), json)
  await mkdir(new URL('./', docsFile), { recursive: true })
  // The hand-written analysis (profiles, what each change bought) follows the generated table.
  const analysis = await readFile(new URL('bench/analysis.md', root), 'utf8').catch(() => '')
  await writeFile(docsFile, `${markdownReport(result)}\n${analysis ? `\n${analysis}` : ''}`)

  console.log(consoleReport(result))
  log(`\nwrote ${fileURLToPath(stamped)}, bench/results/latest.json and docs/benchmarks.md`)
  return suites.some((suite) => suite.status === 'crashed') ? 1 : 0
}

// Exit explicitly: a suite may leave a socket or timer behind, and the run is over.
main().then(
  (code) => process.exit(code),
  (error) => {
    log(message(error))
    process.exit(1)
  },
)
