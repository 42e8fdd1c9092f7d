import { EventEmitter } from 'node:events'
import { type InProcessSides, inProcessNote, inProcessTrials } from '../lib/inProcessTrials.js'
import {
  collectGarbage,
  concurrently,
  DeliveryCounter,
  hasExposedGc,
  percentile,
  sequentialLatencies,
  sleep,
} from '../lib/measure.js'
import { type MoleculerScenario, startLocalMoleculer } from '../lib/moleculer.js'
import {
  createService,
  defineEvent,
  defineService,
  handleCommand,
  handleSubscription,
  MemoryBridge,
  TimeoutError,
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
const HEAP_INVOCATIONS = 1_000_000
/** every TIMEOUT_EVERY-th invocation of the heap run times out */
const TIMEOUT_EVERY = 1_000
const TIMEOUT_MS = 2
/** the slow handler answers this long after its deadline fired, so its answer always comes too late */
const LATE_BY_MS = 10

async function startConduit() {
  const events = new DeliveryCounter()
  const bridge = new MemoryBridge()
  await bridge.start()
  const account = createService(accountV1, {
    commands: [
      handleCommand(depositCommand, (input) => deposit(input)),
      handleCommand(slowDeposit, async (input, ctx) => {
        const signal = ctx.signal
        if (!signal.aborted)
          await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))
        await sleep(LATE_BY_MS)
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
  const rawEvents = new DeliveryCounter()
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

/** 1,000,000 invocations, every 1000th timing out against a handler that answers too late. */
async function heapGrowth(conduit: Conduit): Promise<BenchRow[]> {
  const { bridge } = conduit
  let timedOutByCaller = 0
  let expiredBeforePickup = 0
  let unexpected: unknown
  const call = async (index: number) => {
    if (index % TIMEOUT_EVERY !== TIMEOUT_EVERY - 1) return bridge.invoke(depositCommand, SAMPLE)
    try {
      await bridge.invoke(slowDeposit, SAMPLE, { timeout: TIMEOUT_MS })
      unexpected ??= new Error('a slow invocation answered in time')
    } catch (error) {
      if (!(error instanceof TimeoutError)) unexpected ??= error
      else if (error.message.includes('before the command was picked up')) expiredBeforePickup++
      else timedOutByCaller++
    }
  }
  const settle = async () => {
    await sleep(TIMEOUT_MS + LATE_BY_MS + 50) // late answers of the slow handler arrive and are dropped
    for (let i = 0; i < 3; i++) {
      collectGarbage()
      await new Promise((resolve) => setImmediate(resolve))
    }
  }

  await concurrently(call, 20_000, IN_FLIGHT) // warm-up, including the timeout path
  timedOutByCaller = 0
  expiredBeforePickup = 0
  await settle()
  const before = process.memoryUsage().heapUsed
  const elapsed = await concurrently(call, HEAP_INVOCATIONS, IN_FLIGHT)
  await settle()
  const after = process.memoryUsage().heapUsed
  if (unexpected) throw unexpected
  const timedOut = timedOutByCaller + expiredBeforePickup
  if (timedOut !== HEAP_INVOCATIONS / TIMEOUT_EVERY) {
    throw new Error(`expected ${HEAP_INVOCATIONS / TIMEOUT_EVERY} timed-out invocations, saw ${timedOut}`)
  }
  const mb = (bytes: number) => bytes / (1024 * 1024)
  const rate = Math.round((HEAP_INVOCATIONS * 1000) / elapsed).toLocaleString('en-US')
  return [
    {
      suite: 'memory',
      name: `heap growth across ${HEAP_INVOCATIONS.toLocaleString('en-US')} invocations`,
      unit: 'MB',
      conduit: mb(after - before),
      higherIsBetter: false,
      target: { max: 10 },
      note:
        `heapUsed after gc: ${mb(before).toFixed(1)} → ${mb(after).toFixed(1)} MB; ${timedOut} invocations timed out ` +
        `(${timedOutByCaller} by the caller's deadline, ${expiredBeforePickup} expired before pickup), ` +
        `${IN_FLIGHT} in flight, ${rate} calls/s`,
    },
    {
      suite: 'memory',
      name: 'pending invocations left after that run',
      unit: 'entries',
      conduit: bridge.pendingInvocations,
      higherIsBetter: false,
      target: { max: 0 },
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
        ...(await heapGrowth(conduit)),
      ]
    } finally {
      await moleculer.stop()
      await conduit.stop()
    }
  },
}

export default memory
