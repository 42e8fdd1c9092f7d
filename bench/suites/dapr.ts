import { Agent, createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { DaprBridge } from '../../packages/dapr/src/index.js'
import { DaprEmulator } from '../../packages/dapr/src/testing/index.js'
import { accountV1, deposit, depositCommand, depositInput, depositOutput, SAMPLE } from '../lib/deposit.js'
import { alternatingTrials, concurrently, percentile, sequentialLatencies, spread } from '../lib/measure.js'
import { createService, handleCommand } from '../lib/workspace.js'
import type { BenchRow, BenchSuite } from '../types.js'

// DaprBridge through the TEST EMULATOR (@conduit/dapr/testing, packages/dapr/src/testing), not through daprd: it
// measures the bridge's own overhead (envelopes, correlation, deadlines, the app server) next to
// a plain HTTP app doing the same work behind the same emulated sidecars in the same run. The
// emulator proxies caller sidecar → app directly; real Dapr adds a sidecar-to-sidecar gRPC hop
// and its own costs, which this suite does not measure.

const NATS = process.env.CONDUIT_NATS_URL ?? '127.0.0.1:4222'
const IN_FLIGHT = 100
const TRIALS = 7
const TRIAL_MS = 400
const LATENCY_CALLS = 1_000
const LABEL = "through the test emulator: measures the bridge's own overhead, not Dapr's"

const alternating = (sides: Parameters<typeof alternatingTrials>[0]) =>
  alternatingTrials(sides, { trials: TRIALS, trialMs: TRIAL_MS, minCount: 500 })

/** A plain HTTP app behind its own sidecar: zod-parses the input, answers the zod-parsed output. */
async function startRawApp(): Promise<Server> {
  const server = createServer((incoming, response) => {
    if (incoming.url !== '/deposit') {
      response.writeHead(404).end() // e.g. the sidecar's GET /dapr/subscribe: no subscriptions
      return
    }
    const chunks: Buffer[] = []
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk))
    incoming.on('end', async () => {
      const output = depositOutput.parse(
        await deposit(depositInput.parse(JSON.parse(Buffer.concat(chunks).toString()))),
      )
      const body = JSON.stringify(output)
      response.writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      })
      response.end(body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return server
}

/** A raw call: POST through the caller's sidecar to the plain app, the JSON answer parsed. */
function rawCaller(daprHttpPort: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 })
  const body = JSON.stringify(SAMPLE)
  const call = () =>
    new Promise<unknown>((resolve, reject) => {
      const outgoing = request(
        {
          host: '127.0.0.1',
          port: daprHttpPort,
          method: 'POST',
          path: '/v1.0/invoke/raw-account/method/deposit',
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
          agent,
        },
        (incoming) => {
          const chunks: Buffer[] = []
          incoming.on('data', (chunk: Buffer) => chunks.push(chunk))
          incoming.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString())))
          incoming.on('error', reject)
        },
      )
      outgoing.on('error', reject)
      outgoing.end(body)
    })
  return { call, close: () => agent.destroy() }
}

async function bridgeWithSidecar(emulator: DaprEmulator, bridges: DaprBridge[]): Promise<DaprBridge> {
  const slot: { bridge?: DaprBridge } = {}
  const sidecar = await emulator.addSidecar({
    appId: () => slot.bridge?.appId,
    appPort: () => slot.bridge?.appPort,
  })
  slot.bridge = new DaprBridge({ daprHttpPort: sidecar.daprHttpPort, appPort: 0, subscribeSettleMs: 50 })
  bridges.push(slot.bridge)
  await slot.bridge.start()
  return slot.bridge
}

async function commandCells(emulator: DaprEmulator, bridges: DaprBridge[]): Promise<BenchRow[]> {
  const server = await bridgeWithSidecar(emulator, bridges)
  const account = createService(accountV1, {
    commands: [handleCommand(depositCommand, (input) => deposit(input))],
  })
  await (await account.getInstance(server)).start()
  const client = await bridgeWithSidecar(emulator, bridges)
  const rawApp = await startRawApp()
  await emulator.addSidecar({ appId: 'raw-account', appPort: (rawApp.address() as AddressInfo).port })
  const rawSidecar = await emulator.addSidecar({ appId: 'raw-client' })
  const raw = rawCaller(rawSidecar.daprHttpPort)
  const invoke = () => client.invoke(depositCommand, SAMPLE)
  try {
    await concurrently(invoke, 500, IN_FLIGHT) // warm-up
    await concurrently(raw.call, 500, IN_FLIGHT)
    const conduitLatency = await sequentialLatencies(invoke, LATENCY_CALLS)
    const rawLatency = await sequentialLatencies(raw.call, LATENCY_CALLS)
    const throughput = await alternating({
      conduit: (n) => concurrently(invoke, n, IN_FLIGHT),
      baseline: (n) => concurrently(raw.call, n, IN_FLIGHT),
    })
    const row = {
      suite: 'dapr',
      baselineLabel:
        'raw HTTP through the same emulated sidecars: POST /v1.0/invoke/<app>/method/deposit to a node:http app, zod-parsed input and output',
    }
    const latencyNote = `${LABEL}; ${LATENCY_CALLS.toLocaleString('en-US')} sequential calls after warm-up`
    return [
      {
        ...row,
        name: `command round trip through the test emulator, ${IN_FLIGHT} in flight`,
        unit: 'calls/s',
        conduit: throughput.conduit,
        baseline: throughput.baseline,
        higherIsBetter: true,
        note: `${LABEL}; median of ${TRIALS} alternating trials of ~${TRIAL_MS} ms; conduit ${spread(throughput.trials.conduit)}, baseline ${spread(throughput.trials.baseline)} calls/s`,
      },
      {
        ...row,
        name: 'command round trip through the test emulator, sequential p50',
        unit: 'µs',
        conduit: percentile(conduitLatency, 50),
        baseline: percentile(rawLatency, 50),
        higherIsBetter: false,
        note: latencyNote,
      },
      {
        ...row,
        name: 'command round trip through the test emulator, sequential p99',
        unit: 'µs',
        conduit: percentile(conduitLatency, 99),
        baseline: percentile(rawLatency, 99),
        higherIsBetter: false,
        note: latencyNote,
      },
    ]
  } finally {
    raw.close()
    rawApp.closeAllConnections()
    await new Promise((resolve) => rawApp.close(resolve))
  }
}

const dapr: BenchSuite = {
  name: 'dapr',
  description:
    'DaprBridge through the Dapr sidecar emulator that is its test fixture (@conduit/dapr/testing), ' +
    "not through daprd: it measures the bridge's own overhead, not Dapr's. Command round trips " +
    '(service invocation → app port → response in the HTTP response) beside a plain HTTP app behind the same ' +
    'emulated sidecars, in the same run. The emulator backs pub/sub with NATS JetStream, so it needs NATS.',
  async unavailable() {
    try {
      await (await DaprEmulator.start({ natsServers: NATS })).close()
      return undefined
    } catch (error) {
      return `the Dapr test emulator needs NATS with JetStream at ${NATS}: ${(error as Error).message}`
    }
  },
  async run() {
    const emulator = await DaprEmulator.start({ natsServers: NATS })
    const bridges: DaprBridge[] = []
    try {
      return await commandCells(emulator, bridges)
    } finally {
      for (const bridge of bridges) await bridge.stop()
      await emulator.close()
    }
  },
}

export default dapr
