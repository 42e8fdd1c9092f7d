import { EventEmitter } from 'node:events'
import { answerTooLate, HEAP_TIMEOUT_MS, heapGrowth } from '../lib/heapGrowth.js'
import { type InProcessSides, inProcessNote, inProcessTrials } from '../lib/inProcessTrials.js'
import {
  collectGarbage,
  concurrently,
  DeliveryCounter,
  hasExposedGc,
  percentile,
  sequentialLatencies,
} from '../lib/measure.js'
import { type MoleculerScenario, startLocalMoleculer } from '../lib/moleculer.js'
import {
  createService,
  defineEvent,
  defineService,
  handleCommand,
  handleSubscription,
  MemoryBridge,
  z,
} from '../lib/workspace.js'
import type { BenchRow, BenchSuite } from '../types.js'

// The same schemas serve Conduit and the raw baselines.
const depositInput = z.object({
  accountId: z.string().min(1),
  amount: z.number().int().positive(),
  note: z.string().optional(),
})
const depositOutput = z.object({ accountId: z.string(), balance: z.number() })
const depositMade = defineEvent(
  'account.deposited',
  z.object({ accountId: z.string().min(1), amount: z.number() }),
)

type DepositInput = z.output<typeof depositInput>
/** The business logic both sides run. */
const deposit = async (input: DepositInput) => ({ accountId: input.accountId, balance: input.amount + 1 })

/** Raw baseline: what a developer would write without the runtime. */
async function rawDeposit(input: unknown) {
  return depositOutput.parse(await deposit(depositInput.parse(input)))
}

const accountV1 = defineService({ name: 'account', version: '1' })
const depositCommand = accountV1.command('deposit', { input: depositInput, output: depositOutput })
const slowDeposit = accountV1.command('slowDeposit', { input: depositInput, output: depositOutput })
const ledgerV1 = defineService({ name: 'ledger', version: '1' })
const recordDeposit = ledgerV1.subscription('recordDeposit', { event: depositMade, delivery: 'at-most-once' })

const EVENT_NAME = depositMade.name
const SAMPLE = { accountId: 'acc-42', amount: 100, note: 'benchmark' }
const EVENT_SAMPLE = { accountId: 'acc-42', amount: 100 }

const IN_FLIGHT = 100
const TRIALS = 5
const TRIAL_MS = 400
const LATENCY_CALLS = 30_000

async function startConduit() {
  const events = new DeliveryCounter()
  const bridge = new MemoryBridge()
  await bridge.start()
  const account = createService(accountV1, {
    commands: [
      handleCommand(depositCommand, (input) => deposit(input)),
      handleCommand(slowDeposit, async (input, ctx) => {
        await answerTooLate(ctx.signal)
        return deposit(input)
      }),
    ],
  })
  const ledger = createService(ledgerV1, {
    subscriptions: [handleSubscription(recordDeposit, async () => events.hit())],
  })
  const instances = [await account.getInstance(bridge), await ledger.getInstance(bridge)]
  for (const instance of instances) await instance.start()
  return {
    bridge,
    events,
    async stop() {
      for (const instance of instances) await instance.stop()
      await bridge.stop()
    },
  }
}

type Conduit = Awaited<ReturnType<typeof startConduit>>

const alternatingThroughput = (contenders: InProcessSides, probe: number) =>
  inProcessTrials(contenders, probe, { trials: TRIALS, trialMs: TRIAL_MS })

async function commandRoundTrip(conduit: Conduit, moleculer: MoleculerScenario): Promise<BenchRow[]> {
  const { bridge } = conduit
  const invoke = () => bridge.invoke(depositCommand, SAMPLE)
  const raw = () => rawDeposit(SAMPLE)
  const peer = () => moleculer.call(SAMPLE)

  // Warm-up: let every path reach optimized code before anything is measured.
  await concurrently(invoke, 50_000, IN_FLIGHT)
  await concurrently(raw, 200_000, IN_FLIGHT)
  await concurrently(peer, 50_000, IN_FLIGHT)
  await sequentialLatencies(invoke, 10_000)
  await sequentialLatencies(raw, 10_000)
  await sequentialLatencies(peer, 10_000)

  collectGarbage()
  const conduitLatency = await sequentialLatencies(invoke, LATENCY_CALLS)
  collectGarbage()
  const rawLatency = await sequentialLatencies(raw, LATENCY_CALLS)
  collectGarbage()
  const peerLatency = await sequentialLatencies(peer, LATENCY_CALLS)

  const throughput = await alternatingThroughput(
    {
      conduit: (count) => concurrently(invoke, count, IN_FLIGHT),
      baseline: (count) => concurrently(raw, count, IN_FLIGHT),
      moleculer: (count) => concurrently(peer, count, IN_FLIGHT),
    },
    20_000,
  )

  const baselineLabel = 'async function: zod-parse input, run the same handler, zod-parse output'
  const latencyNote = `${LATENCY_CALLS.toLocaleString('en-US')} sequential calls after warm-up`
  return [
    {
      suite: 'memory',
      name: 'command round trip, sequential p50',
      unit: 'µs',
      conduit: percentile(conduitLatency, 50),
      baseline: percentile(rawLatency, 50),
      baselineLabel,
      higherIsBetter: false,
      peer: { label: moleculer.label, value: percentile(peerLatency, 50) },
      target: { maxPeerRatio: 1 },
      note: `${latencyNote}, per side; ${moleculer.note}`,
    },
    {
      suite: 'memory',
      name: 'command round trip, sequential p99',
      unit: 'µs',
      conduit: percentile(conduitLatency, 99),
      baseline: percentile(rawLatency, 99),
      baselineLabel,
      higherIsBetter: false,
      note: latencyNote,
    },
    {
      suite: 'memory',
      name: `command round trip, ${IN_FLIGHT} in flight`,
      unit: 'calls/s',
      conduit: throughput.rates.conduit,
      baseline: throughput.rates.baseline,
      baselineLabel,
      higherIsBetter: true,
      peer: { label: moleculer.label, value: throughput.rates.moleculer },
      target: { minRatio: 0.4, minPeerRatio: 1.5 },
      note: inProcessNote(throughput, 'calls/s', 'call', moleculer.note),
    },
  ]
}

async function eventThroughput(conduit: Conduit, moleculer: MoleculerScenario): Promise<BenchRow[]> {
  const { bridge, events } = conduit
  const emitter = new EventEmitter()
  const rawEvents = new DeliveryCounter('raw client events')
  emitter.on(EVENT_NAME, (payload: unknown) => {
    depositMade.schema.parse(payload)
    rawEvents.hit()
  })

  /** The same driver for both: emit in batches of IN_FLIGHT, then wait until every event was consumed. */
  const drive = async (emit: () => unknown, counter: DeliveryCounter, count: number) => {
    const expected = counter.count + count
    const started = performance.now()
    const batch: unknown[] = new Array(IN_FLIGHT)
    for (let sent = 0; sent < count; sent += IN_FLIGHT) {
      const size = Math.min(IN_FLIGHT, count - sent)
      batch.length = size
      for (let i = 0; i < size; i++) batch[i] = emit()
      await Promise.all(batch)
    }
    await counter.until(expected)
    return performance.now() - started
  }
  const conduitEmit = () => bridge.emit(EVENT_NAME, EVENT_SAMPLE)
  const rawEmit = () => emitter.emit(EVENT_NAME, EVENT_SAMPLE)
  const peerEmit = () => moleculer.emit(EVENT_SAMPLE)

  await drive(conduitEmit, events, 50_000)
  await drive(rawEmit, rawEvents, 200_000)
  await drive(peerEmit, moleculer.events, 50_000)
  const throughput = await alternatingThroughput(
    {
      conduit: (count) => drive(conduitEmit, events, count),
      baseline: (count) => drive(rawEmit, rawEvents, count),
      moleculer: (count) => drive(peerEmit, moleculer.events, count),
    },
    20_000,
  )
  return [
    {
      suite: 'memory',
      name: 'event throughput, emit → 1 at-most-once subscription',
      unit: 'events/s',
      conduit: throughput.rates.conduit,
      baseline: throughput.rates.baseline,
      baselineLabel: 'node:events EventEmitter, listener zod-parses the same payload schema',
      higherIsBetter: true,
      peer: { label: moleculer.label, value: throughput.rates.moleculer },
      target: { minRatio: 0.4, minPeerRatio: 1 },
      note: `emitted by name (the subscription validates), ${IN_FLIGHT} emits per batch; ${inProcessNote(throughput, 'events/s', 'event', moleculer.note)}`,
    },
  ]
}

const memory: BenchSuite = {
  name: 'memory',
  description:
    'MemoryBridge in one process: a client invokes a command through the bridge (envelope, correlation, ' +
    'deadline, pipeline with input and output validation) and emits an event to one at-most-once ' +
    'subscription. Each cell runs beside a raw baseline doing the same zod parsing and the same handler ' +
    "without the runtime, in the same process and run, and the throughput and p50 cells beside Moleculer's " +
    'local broker (no transporter) running the same action and event handler.',
  async unavailable() {
    return hasExposedGc() ? undefined : 'needs global.gc: run with node --expose-gc (as `pnpm bench` does)'
  },
  async run() {
    const conduit = await startConduit()
    const moleculer = await startLocalMoleculer({
      add: rawDeposit,
      eventName: EVENT_NAME,
      checkEvent: (payload) => void depositMade.schema.parse(payload),
    })
    try {
      return [
        ...(await commandRoundTrip(conduit, moleculer)),
        ...(await eventThroughput(conduit, moleculer)),
        ...(await heapGrowth({
          suite: 'memory',
          bridge: conduit.bridge,
          fast: () => conduit.bridge.invoke(depositCommand, SAMPLE),
          slow: () => conduit.bridge.invoke(slowDeposit, SAMPLE, { timeout: HEAP_TIMEOUT_MS }),
          inFlight: IN_FLIGHT,
          setup: 'one MemoryBridge',
        })),
      ]
    } finally {
      await moleculer.stop()
      await conduit.stop()
    }
  },
}

export default memory
