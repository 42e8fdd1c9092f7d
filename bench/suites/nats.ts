import { NatsBridge } from '../../packages/nats/src/index.js'
import { NatsAdmin, uniquePrefix } from '../../packages/nats/src/testing.js'
import {
  accountV1,
  deposit,
  depositCommand,
  depositInput,
  depositMade,
  depositOutput,
  peerWork,
  SAMPLE,
} from '../lib/deposit.js'
import { answerTooLate, HEAP_TIMEOUT_MS, heapGrowth } from '../lib/heapGrowth.js'
import {
  alternatingTrials,
  concurrently,
  DeliveryCounter,
  driveEvents,
  percentile,
  sequentialLatencies,
  spread,
  type TrialSides,
} from '../lib/measure.js'
import { type MoleculerScenario, moleculerNats, startMoleculerPair } from '../lib/moleculer.js'
import { startRawAtMostOnce, startRawDurable, startRawRpc, startRawWildcardRpc } from '../lib/rawNats.js'
import { createService, defineService, handleCommand, handleSubscription } from '../lib/workspace.js'
import type { BenchRow, BenchSuite } from '../types.js'

// NatsBridge beside plain nats.js (bench/lib/rawNats.ts) doing the same work against the same
// server, in the same run, and beside Moleculer's NATS transporter where Moleculer has the cell.
// Every side validates with the same zod schemas and JSON-encodes, so the ratio is the runtime's
// cost (envelope, correlation, deadlines, tracing hooks), not the business logic's.

const SERVERS = process.env.NATS_URL ?? 'nats://127.0.0.1:4222'
const IN_FLIGHT = 100
const TRIALS = 5
const TRIAL_MS = 500
const LATENCY_CALLS = 3_000
const LATENCY_BLOCK = 250
/** most events published but not yet consumed, so a fast publisher never makes a slow consumer */
const EVENT_WINDOW = 5_000

const ledgerV1 = defineService({ name: 'benchLedger', version: '1' })
const recordFast = ledgerV1.subscription('recordFast', { event: depositMade, delivery: 'at-most-once' })
const auditV1 = defineService({ name: 'benchAudit', version: '1' })
const recordDurable = auditV1.subscription('recordDurable', { event: depositMade, delivery: 'durable' })

const heapV1 = defineService({ name: 'benchHeap', version: '1' })
const heapDeposit = heapV1.command('deposit', { input: depositInput, output: depositOutput })
const heapSlowDeposit = heapV1.command('slowDeposit', { input: depositInput, output: depositOutput })

/** Issue 17's heap rule over the wire: a client bridge calls a service on a second bridge. */
async function heapCells(prefix: string, bridges: NatsBridge[]): Promise<BenchRow[]> {
  const server = await connectedBridge(prefix, bridges)
  const client = await connectedBridge(prefix, bridges)
  const service = createService(heapV1, {
    commands: [
      handleCommand(heapDeposit, (input) => deposit(input)),
      handleCommand(heapSlowDeposit, async (input, ctx) => {
        await answerTooLate(ctx.signal)
        return deposit(input)
      }),
    ],
  })
  const instance = await service.getInstance(server)
  await instance.start()
  try {
    return await heapGrowth({
      suite: 'nats',
      bridge: client,
      fast: () => client.invoke(heapDeposit, SAMPLE),
      slow: () => client.invoke(heapSlowDeposit, SAMPLE, { timeout: HEAP_TIMEOUT_MS }),
      inFlight: IN_FLIGHT,
      setup: 'two NatsBridges in one process (client and service), heap of the whole process',
    })
  } finally {
    await instance.stop()
  }
}

const alternating = <S extends string = never>(sides: TrialSides<S>) =>
  alternatingTrials(sides, { trials: TRIALS, trialMs: TRIAL_MS, minCount: 2000 })

/** Events, timed until the last one was consumed; emits awaited `inFlight` at a time. */
const drive = (emit: () => Promise<unknown>, counter: DeliveryCounter, count: number, inFlight = 1) =>
  driveEvents(emit, counter, count, { inFlight, window: EVENT_WINDOW })

/**
 * Sequential latencies in alternating blocks of LATENCY_BLOCK calls per side, so that a busy
 * moment on a shared machine (which sets the p99) falls on both sides alike.
 */
async function alternatingLatencies(conduit: () => Promise<unknown>, baseline: () => Promise<unknown>) {
  const blocks = { conduit: [] as Float64Array[], baseline: [] as Float64Array[] }
  for (let done = 0; done < LATENCY_CALLS; done += LATENCY_BLOCK) {
    blocks.conduit.push(await sequentialLatencies(conduit, LATENCY_BLOCK))
    blocks.baseline.push(await sequentialLatencies(baseline, LATENCY_BLOCK))
  }
  const merge = (parts: Float64Array[]) => Float64Array.from(parts.flatMap((part) => [...part])).sort()
  return { conduit: merge(blocks.conduit), baseline: merge(blocks.baseline) }
}

interface Throughput {
  conduit: number
  baseline: number
  rates: { conduit: number; moleculer?: number }
  trials: { conduit: number[]; baseline: number[]; moleculer?: number[] }
}

/**
 * A throughput cell: median rate of the alternating trials, with their spread in the note, and
 * Moleculer's rate beside it when `moleculer` ran in the same trials (target: at least Moleculer's).
 */
function throughputRow(
  name: string,
  unit: string,
  throughput: Throughput,
  baselineLabel: string,
  minRatio: number,
  how: string,
  moleculer?: MoleculerScenario,
): BenchRow {
  const { conduit, baseline, trials, rates } = throughput
  const note = `${how}median of ${TRIALS} alternating trials of ~${TRIAL_MS} ms; conduit ${spread(trials.conduit)}, baseline ${spread(trials.baseline)} ${unit}`
  const row: BenchRow = { suite: 'nats', name, unit, conduit, baseline, baselineLabel, higherIsBetter: true }
  if (!moleculer || rates.moleculer === undefined || !trials.moleculer)
    return { ...row, target: { minRatio }, note }
  return {
    ...row,
    peer: { label: moleculer.label, value: rates.moleculer },
    target: { minRatio, minPeerRatio: 1 },
    note: `${note}, Moleculer ${spread(trials.moleculer)} ${unit}; ${moleculer.note}`,
  }
}

async function connectedBridge(prefix: string, bridges: NatsBridge[]): Promise<NatsBridge> {
  const bridge = new NatsBridge({ servers: SERVERS, prefix })
  bridges.push(bridge)
  await bridge.start()
  return bridge
}

async function commandCells(
  prefix: string,
  bridges: NatsBridge[],
  moleculer: MoleculerScenario,
): Promise<BenchRow[]> {
  const server = await connectedBridge(prefix, bridges)
  const client = await connectedBridge(prefix, bridges)
  const account = createService(accountV1, {
    commands: [handleCommand(depositCommand, (input) => deposit(input))],
  })
  await (await account.getInstance(server)).start()
  const raw = await startRawRpc(SERVERS, `${prefix}.raw.rpc`)
  const wildcard = await startRawWildcardRpc(SERVERS, `${prefix}.raw.wildcard`)
  const invoke = () => client.invoke(depositCommand, SAMPLE)
  const peer = () => moleculer.call(SAMPLE)
  try {
    await concurrently(invoke, 5_000, IN_FLIGHT) // warm-up
    await concurrently(raw.call, 5_000, IN_FLIGHT)
    await concurrently(wildcard.call, 5_000, IN_FLIGHT)
    await concurrently(peer, 5_000, IN_FLIGHT)
    const { conduit: conduitLatency, baseline: rawLatency } = await alternatingLatencies(invoke, raw.call)
    const throughput = await alternating({
      conduit: (n) => concurrently(invoke, n, IN_FLIGHT),
      baseline: (n) => concurrently(raw.call, n, IN_FLIGHT),
      wildcard: (n) => concurrently(wildcard.call, n, IN_FLIGHT),
      moleculer: (n) => concurrently(peer, n, IN_FLIGHT),
    })
    const baselineLabel =
      'raw nats.js: publish with one shared inbox, replies matched by id, zod-parsed input and output'
    const row = { suite: 'nats', baselineLabel, higherIsBetter: false, unit: 'µs' }
    const latencyNote = `${LATENCY_CALLS.toLocaleString('en-US')} sequential calls per side after warm-up, in alternating blocks of ${LATENCY_BLOCK}`
    const name = `command round trip, ${IN_FLIGHT} in flight`
    return [
      throughputRow(name, 'calls/s', throughput, baselineLabel, 0.8, '', moleculer),
      throughputRow(
        `${name}, vs raw wildcard inbox`,
        'calls/s',
        {
          ...throughput,
          baseline: throughput.rates.wildcard,
          trials: { ...throughput.trials, baseline: throughput.trials.wildcard },
        },
        "raw nats.js as issue 17 names it: publish with a reply subject of its own into one wildcard inbox subscription (nats.js's request multiplexer pattern), bare zod-parsed input and output",
        0.8,
        `the conduit figure of the row above (the same trials); ${throughput.cpuNote}; `,
      ),
      {
        ...row,
        name: 'command round trip, sequential p50',
        conduit: percentile(conduitLatency, 50),
        baseline: percentile(rawLatency, 50),
        note: latencyNote,
      },
      {
        ...row,
        name: 'command round trip, sequential p99',
        conduit: percentile(conduitLatency, 99),
        baseline: percentile(rawLatency, 99),
        target: { maxRatio: 1.5 },
        note: latencyNote,
      },
    ]
  } finally {
    await wildcard.close()
    await raw.close()
  }
}

async function atMostOnceCells(
  prefix: string,
  bridges: NatsBridge[],
  moleculer: MoleculerScenario,
): Promise<BenchRow[]> {
  const consumer = await connectedBridge(prefix, bridges)
  const publisher = await connectedBridge(prefix, bridges)
  const conduitEvents = new DeliveryCounter('Conduit events')
  const ledger = createService(ledgerV1, {
    subscriptions: [handleSubscription(recordFast, async () => conduitEvents.hit())],
  })
  await (await ledger.getInstance(consumer)).start()
  const rawEvents = new DeliveryCounter('raw client events')
  const raw = await startRawAtMostOnce(SERVERS, `${prefix}.raw.events`, rawEvents)
  const emit = () => publisher.emit(depositMade.name, SAMPLE)
  const peerEmit = () => moleculer.emit(SAMPLE)
  try {
    await drive(emit, conduitEvents, 5_000) // warm-up
    await drive(raw.emit, rawEvents, 5_000)
    await drive(peerEmit, moleculer.events, 5_000)
    const throughput = await alternating({
      conduit: (n) => drive(emit, conduitEvents, n),
      baseline: (n) => drive(raw.emit, rawEvents, n),
      moleculer: (n) => drive(peerEmit, moleculer.events, n),
    })
    return [
      throughputRow(
        'at-most-once event throughput, emit → consume',
        'events/s',
        throughput,
        'raw nats.js: core publish, queue subscription, JSON + zod parse',
        0.8,
        `timed until the last event was consumed, at most ${EVENT_WINDOW.toLocaleString('en-US')} unconsumed; `,
        moleculer,
      ),
    ]
  } finally {
    await raw.close()
  }
}

async function durableCells(prefix: string, bridges: NatsBridge[]): Promise<BenchRow[]> {
  const consumer = await connectedBridge(prefix, bridges)
  const conduitEvents = new DeliveryCounter('Conduit events')
  const audit = createService(auditV1, {
    subscriptions: [handleSubscription(recordDurable, async () => conduitEvents.hit())],
  })
  await (await audit.getInstance(consumer)).start()
  // started after the consumer exists, so it knows at once that these emits need JetStream
  const publisher = await connectedBridge(prefix, bridges)
  const rawEvents = new DeliveryCounter('raw client events')
  const raw = await startRawDurable(SERVERS, prefix, rawEvents)
  const emit = () => publisher.emit(depositMade.name, SAMPLE)
  try {
    await drive(emit, conduitEvents, 2_000, IN_FLIGHT) // warm-up
    await drive(raw.emit, rawEvents, 2_000, IN_FLIGHT)
    const throughput = await alternating({
      conduit: (n) => drive(emit, conduitEvents, n, IN_FLIGHT),
      baseline: (n) => drive(raw.emit, rawEvents, n, IN_FLIGHT),
    })
    return [
      throughputRow(
        `durable event throughput, ${IN_FLIGHT} acked emits in flight → acked consume`,
        'events/s',
        throughput,
        'raw nats.js JetStream: acked publish (noAsyncTraces), interest stream, durable pull consumer, zod-parse then ack',
        0.6,
        'timed until the last event was consumed; ',
      ),
    ]
  } finally {
    await raw.close()
  }
}

const nats: BenchSuite = {
  name: 'nats',
  description:
    'NatsBridge against the nats-server on 127.0.0.1:4222 (every bridge and raw client is its own connection, ' +
    'all in one process): command round trips on core request/reply, at-most-once events on core pub/sub and ' +
    'durable events on JetStream (acked publish, ack after the handler), each beside plain nats.js doing the ' +
    "same work in the same run; commands and at-most-once events also beside Moleculer's NATS transporter " +
    '(a caller node and a calc node, two brokers in this process).',
  async unavailable() {
    try {
      const admin = await NatsAdmin.connect(SERVERS)
      await admin.close()
      return undefined
    } catch (error) {
      return `NATS with JetStream not reachable at ${SERVERS}: ${(error as Error).message}`
    }
  },
  async run() {
    const prefix = uniquePrefix('bench')
    const bridges: NatsBridge[] = []
    const moleculer = await startMoleculerPair(moleculerNats(SERVERS), peerWork, {
      params: SAMPLE,
      event: SAMPLE,
    })
    try {
      return [
        ...(await commandCells(prefix, bridges, moleculer)),
        ...(await atMostOnceCells(prefix, bridges, moleculer)),
        ...(await durableCells(prefix, bridges)),
        ...(await heapCells(prefix, bridges)),
      ]
    } finally {
      await moleculer.stop()
      for (const bridge of bridges) await bridge.stop()
      const admin = await NatsAdmin.connect(SERVERS)
      await admin.deleteNamespace(prefix)
      await admin.close()
    }
  },
}

export default nats
