import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { median } from '../../../bench/lib/measure.js'
import type { BenchRow, BenchSuite } from '../../../bench/types.js'
import { BASELINE_PATH, GATEWAY_PATH, type ServerMessage } from './servers.js'

const CONNECTIONS = 50
const WARMUP_SECONDS = 2
const ROUND_SECONDS = 2
const ROUNDS = 8
const BODY = JSON.stringify({ accountId: 'acc-42', amount: 100, note: 'benchmark' })

const packageDir = fileURLToPath(new URL('../', import.meta.url))

interface Server {
  url: string
  /** CPU time (user + system, µs) the server process has used so far */
  cpuMicros(): Promise<number>
  stop(): Promise<void>
}

/** Each server runs in its own process, so the load generator never shares its event loop. */
async function startServer(which: 'gateway' | 'baseline'): Promise<Server> {
  // the servers load @conduit/* as the bench does: built (--conditions=conduit-dist), as users run them
  const conditions = process.execArgv.filter((arg) => arg.startsWith('--conditions'))
  const args = [...conditions, '--import', 'tsx', 'bench/servers.ts', which]
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: packageDir,
    env: { ...process.env, CONDUIT_LOG_LEVEL: 'warn', NODE_ENV: 'production' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`the ${which} bench server exited with ${code}`)
  })
  exited.catch(() => undefined) // observed through next(); never an unhandled rejection
  const next = async (): Promise<ServerMessage> => {
    const [message] = (await Promise.race([once(child, 'message'), exited])) as [ServerMessage]
    return message
  }
  const listening = await next()
  if (listening.type !== 'listening') throw new Error(`unexpected message from the ${which} server`)
  return {
    url: `http://127.0.0.1:${listening.port}`,
    async cpuMicros() {
      child.send('cpu')
      const reply = await next()
      if (reply.type !== 'cpu') throw new Error(`unexpected message from the ${which} server`)
      return reply.micros
    },
    async stop() {
      child.kill('SIGTERM')
      if (child.exitCode === null) await once(child, 'exit')
    },
  }
}

interface Round {
  requestsPerSecond: number
  p99: number
  cpuMicrosPerRequest: number
  failures: number
}

async function round(server: Server, url: string, seconds: number): Promise<Round> {
  const cpuBefore = await server.cpuMicros()
  const result = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: BODY,
    connections: CONNECTIONS,
    duration: seconds,
  })
  const cpuUsed = (await server.cpuMicros()) - cpuBefore
  return {
    requestsPerSecond: result.requests.average,
    p99: result.latency.p99,
    cpuMicrosPerRequest: cpuUsed / Math.max(1, result.requests.total),
    failures: result.non2xx + result.errors + result.timeouts,
  }
}

/**
 * One POST command through the gateway (JSON body, route, envelope, MemoryBridge, the command
 * pipeline with zod input and output validation) beside a plain Hono route that parses and
 * validates with the same zod schemas. Same autocannon settings, short alternating rounds and
 * medians, so load from elsewhere on the machine hits both sides alike.
 */
const suite: BenchSuite = {
  name: 'http',
  async run(): Promise<BenchRow[]> {
    const servers = { gateway: await startServer('gateway'), baseline: await startServer('baseline') }
    try {
      const targets = {
        gateway: `${servers.gateway.url}${GATEWAY_PATH}`,
        baseline: `${servers.baseline.url}${BASELINE_PATH}`,
      }
      for (const side of ['gateway', 'baseline'] as const)
        await round(servers[side], targets[side], WARMUP_SECONDS)
      const rounds = { gateway: [] as Round[], baseline: [] as Round[] }
      for (let index = 0; index < ROUNDS; index++) {
        for (const side of ['gateway', 'baseline'] as const) {
          rounds[side].push(await round(servers[side], targets[side], ROUND_SECONDS))
        }
      }
      const failures = [...rounds.gateway, ...rounds.baseline].reduce((sum, r) => sum + r.failures, 0)
      if (failures > 0) throw new Error(`${failures} requests failed or were not 2xx during the http bench`)
      const medianOf = (side: 'gateway' | 'baseline', pick: (r: Round) => number) =>
        median(rounds[side].map(pick))
      const baselineLabel =
        'plain Hono route: parse JSON, zod-validate input, same handler, zod-validate output'
      const note = `autocannon, ${CONNECTIONS} connections, median of ${ROUNDS} alternating ${ROUND_SECONDS} s rounds after a ${WARMUP_SECONDS} s warm-up; each server in its own process`
      const cell = `POST command over the gateway (memory bridge), ${CONNECTIONS} connections`
      const row = (
        name: string,
        unit: string,
        pick: (r: Round) => number,
        extra: Partial<BenchRow>,
      ): BenchRow => ({
        suite: 'http',
        name,
        unit,
        conduit: medianOf('gateway', pick),
        baseline: medianOf('baseline', pick),
        baselineLabel,
        higherIsBetter: false,
        note,
        ...extra,
      })
      return [
        row(cell, 'req/s', (r) => r.requestsPerSecond, { higherIsBetter: true, target: { minRatio: 0.75 } }),
        row(`${cell}, p99`, 'ms', (r) => r.p99, {}),
        row(`${cell}, server CPU per request`, 'µs', (r) => r.cpuMicrosPerRequest, {
          note: `${note}; user + system CPU of the server process over requests served, steadier than req/s on a busy machine`,
        }),
      ]
    } finally {
      await Promise.all([servers.gateway.stop(), servers.baseline.stop()])
    }
  },
}

export default suite
