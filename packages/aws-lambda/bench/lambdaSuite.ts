import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'
import { median, percentile, sequentialLatencies } from '../../../bench/lib/measure.js'
import type { BenchRow, BenchSuite } from '../../../bench/types.js'
import { conduitEventHandler, conduitHttpHandler } from './conduitFunction.js'
import {
  deposit,
  depositInput,
  depositRecord,
  depositRequest,
  rawHttpHandler,
  rawSqsHandler,
} from './deposit.js'

const packageDir = fileURLToPath(new URL('../', import.meta.url))
/** cold starts per side (under tsx, after one discarded run that fills tsx's transform cache) */
const COLD_RUNS = 3
const WARM_CALLS = 2_000
const SUITE = 'lambda'

interface ColdStart {
  loadMs: number
  firstInvocationMs: number
  sinceProcessStartMs: number
}

function runChild(args: string[]): Promise<ColdStart> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: packageDir,
      env: { ...process.env, CONDUIT_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let output = ''
    child.stdout.on('data', (chunk) => {
      output += chunk
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.on('exit', (code) => {
      clearTimeout(timer)
      if (code !== 0)
        return reject(new Error(`cold start child ${args.join(' ')} exited with ${code}: ${output}`))
      resolve(JSON.parse(output.trim().split('\n').at(-1)!) as ColdStart)
    })
  })
}

async function coldStarts(args: string[], options: { discardFirst: boolean }): Promise<ColdStart[]> {
  if (options.discardFirst) await runChild(args)
  const runs: ColdStart[] = []
  for (let run = 0; run < COLD_RUNS; run++) runs.push(await runChild(args))
  return runs
}

/**
 * Bundles the cold-start script for one side the way docs/aws-lambda.md tells users to: plain
 * esbuild, ESM, node20, minified, no plugins, no banner, nothing external.
 */
async function bundle(side: 'conduit' | 'raw', directory: string): Promise<string> {
  const outfile = join(directory, `${side}.mjs`)
  await build({
    entryPoints: [join(packageDir, 'bench/coldStart.ts')],
    outfile,
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    define: { 'process.env.COLD_START_SIDE': JSON.stringify(side) },
    logLevel: 'error',
  })
  return outfile
}

const kilobytes = async (file: string) => {
  const bytes = await readFile(file)
  return { raw: bytes.length / 1024, gzip: gzipSync(bytes).length / 1024 }
}

const p50 = (latencies: Float64Array) => percentile(latencies, 50)

export default {
  name: SUITE,
  description:
    'Cold start: a fresh `node` process loads the function module (Lambda init) and answers one HTTP API event; ' +
    `median of ${COLD_RUNS} runs, from TypeScript with tsx (after a discarded run) and from a minified esbuild bundle. ` +
    'Raw: a hand-written handler doing the same zod validation and work. Warm: sequential invocations in this process, ' +
    'median latency, beside calling the command handler directly and beside the hand-written handler.',
  async run(): Promise<BenchRow[]> {
    const rows: BenchRow[] = []
    const cold = (
      name: string,
      unit: string,
      conduit: number,
      baseline: number,
      baselineLabel: string,
      note?: string,
    ) =>
      rows.push({
        suite: SUITE,
        name,
        unit,
        conduit,
        baseline,
        baselineLabel,
        higherIsBetter: false,
        ...(note ? { note } : {}),
      })

    const tsx = ['--import', 'tsx', 'bench/coldStart.ts']
    const conduitTsx = await coldStarts([...tsx, 'conduit'], { discardFirst: true })
    const rawTsx = await coldStarts([...tsx, 'raw'], { discardFirst: true })
    const total = (run: ColdStart) => run.loadMs + run.firstInvocationMs
    cold(
      'cold start, tsx: module load + first invocation',
      'ms',
      median(conduitTsx.map(total)),
      median(rawTsx.map(total)),
      'hand-written handler, tsx',
      'includes transpiling from tsx’s cache',
    )
    cold(
      'cold start, tsx: module load',
      'ms',
      median(conduitTsx.map((r) => r.loadMs)),
      median(rawTsx.map((r) => r.loadMs)),
      'hand-written handler, tsx',
    )
    cold(
      'cold start: first invocation (service start + request)',
      'ms',
      median(conduitTsx.map((r) => r.firstInvocationMs)),
      median(rawTsx.map((r) => r.firstInvocationMs)),
      'hand-written handler',
    )

    const directory = await mkdtemp(join(tmpdir(), 'conduit-lambda-bench-'))
    try {
      const conduitFile = await bundle('conduit', directory)
      const rawFile = await bundle('raw', directory)
      const conduitBundle = await coldStarts([conduitFile], { discardFirst: false })
      const rawBundle = await coldStarts([rawFile], { discardFirst: false })
      cold(
        'cold start, bundled: process start → first response',
        'ms',
        median(conduitBundle.map((r) => r.sinceProcessStartMs)),
        median(rawBundle.map((r) => r.sinceProcessStartMs)),
        'hand-written handler, bundled',
        'includes node’s own start-up',
      )
      const [conduitSize, rawSize] = await Promise.all([kilobytes(conduitFile), kilobytes(rawFile)])
      const note = 'both sides bundle zod'
      cold(
        'bundle size, minified ESM',
        'KiB',
        conduitSize.raw,
        rawSize.raw,
        'hand-written handler, bundled',
        note,
      )
      cold(
        'bundle size, minified ESM, gzip',
        'KiB',
        conduitSize.gzip,
        rawSize.gzip,
        'hand-written handler, bundled',
      )
    } finally {
      await rm(directory, { recursive: true, force: true })
    }

    const request = depositRequest()
    const record = depositRecord()
    const direct = () => deposit(depositInput.parse({ accountId: 'acc-42', amount: 100, note: 'benchmark' }))
    for (const call of [
      () => conduitHttpHandler(request),
      () => rawHttpHandler(request),
      () => conduitEventHandler(record),
      () => rawSqsHandler(record),
      direct,
    ]) {
      await sequentialLatencies(call, 300) // warm-up: JIT, lazy service start
    }
    const conduitHttp = p50(await sequentialLatencies(() => conduitHttpHandler(request), WARM_CALLS))
    const rawHttp = p50(await sequentialLatencies(() => rawHttpHandler(request), WARM_CALLS))
    const directCall = p50(await sequentialLatencies(direct, WARM_CALLS))
    const conduitSqs = p50(await sequentialLatencies(() => conduitEventHandler(record), WARM_CALLS))
    const rawSqs = p50(await sequentialLatencies(() => rawSqsHandler(record), WARM_CALLS))
    await conduitHttpHandler.close()
    const warm = (name: string, conduit: number, baseline: number, baselineLabel: string) =>
      rows.push({ suite: SUITE, name, unit: 'µs', conduit, baseline, baselineLabel, higherIsBetter: false })
    warm(
      'warm HTTP API invocation, p50',
      conduitHttp,
      directCall,
      'command handler called directly (zod-validated input)',
    )
    warm(
      'warm HTTP API invocation, p50 (vs hand-written)',
      conduitHttp,
      rawHttp,
      'hand-written Lambda handler',
    )
    warm('warm SQS batch of one record, p50', conduitSqs, rawSqs, 'hand-written SQS handler')
    return rows
  },
} satisfies BenchSuite
