import { AmqpBridge, DEFAULT_AMQP_URL } from '../../packages/amqp/src/index.js'
import { connectAmqp, deleteDeclaredTopology, uniquePrefix } from '../../packages/amqp/src/testing.js'
import { accountV1, deposit, depositCommand, depositMade, peerWork, SAMPLE } from '../lib/deposit.js'
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
import { type MoleculerScenario, moleculerAmqp, startMoleculerPair } from '../lib/moleculer.js'
import { startRawDurable, startRawFanout, startRawRpc } from '../lib/rawAmqp.js'
import { createService, defineService, handleCommand, handleSubscription } from '../lib/workspace.js'
import type { BenchRow, BenchSuite } from '../types.js'

// Conduit over RabbitMQ beside plain amqplib (bench/lib/rawAmqp.ts) doing the same work against
// the same broker, in the same run: a direct reply-to RPC (with and without acks), confirmed
// durable publish / acked consume, and at-most-once events; commands and at-most-once events
// also beside Moleculer's AMQP transporter.

const URL = process.env.CONDUIT_AMQP_URL ?? DEFAULT_AMQP_URL
const IN_FLIGHT = 100
const PREFETCH = 100
const TRIALS = 10
const TRIAL_MS = 500
const LATENCY_CALLS = 3_000

/** most at-most-once events published but not yet consumed (publishes without confirms never wait) */
const EVENT_WINDOW = 5_000

const ledgerV1 = defineService({ name: 'benchLedger', version: '1' })
const recordDeposit = ledgerV1.subscription('record', { event: depositMade, delivery: 'durable' })
const fastLedgerV1 = defineService({ name: 'benchFastLedger', version: '1' })
const recordFast = fastLedgerV1.subscription('recordFast', { event: depositMade, delivery: 'at-most-once' })

const alternating = <S extends string = never>(sides: TrialSides<S>) =>
  alternatingTrials(sides, { trials: TRIALS, trialMs: TRIAL_MS, minCount: 2000 })

/** The trials' spread for a note, e.g. 'conduit 9,000–9,500, baseline 10,000–11,000 calls/s'. */
const spreads = (trials: Record<string, number[]>, unit: string) =>
  `${Object.entries(trials)
    .map(([side, rates]) => `${side} ${spread(rates)}`)
    .join(', ')} ${unit}`

/** Emits `count` events, IN_FLIGHT confirmed emits at a time, then waits until all were consumed. */
async function drive(emit: () => Promise<unknown>, counter: DeliveryCounter, count: number): Promise<number> {
  const expected = counter.count + count
  const started = performance.now()
  await concurrently(emit, count, IN_FLIGHT)
  await counter.until(expected)
  return performance.now() - started
}

async function commandCells(
  prefix: string,
  bridges: AmqpBridge[],
  moleculer: MoleculerScenario,
): Promise<BenchRow[]> {
  const server = new AmqpBridge({ url: URL, prefix, prefetch: PREFETCH })
  const client = new AmqpBridge({ url: URL, prefix })
  bridges.push(server, client)
  await server.start()
  await client.start()
  const account = createService(accountV1, {
    commands: [handleCommand(depositCommand, (input) => deposit(input))],
  })
  await (await account.getInstance(server)).start()
  const raw = await startRawRpc(URL, `${prefix}.raw.rpc`, { acks: true })
  const noAck = await startRawRpc(URL, `${prefix}.raw.rpc-noack`, { acks: false })
  const invoke = () => client.invoke(depositCommand, SAMPLE)
  const peer = () => moleculer.call(SAMPLE)
  try {
    await concurrently(invoke, 5_000, IN_FLIGHT) // warm-up
    await concurrently(raw.call, 5_000, IN_FLIGHT)
    await concurrently(noAck.call, 5_000, IN_FLIGHT)
    await concurrently(peer, 2_000, IN_FLIGHT)
    const conduitLatency = await sequentialLatencies(invoke, LATENCY_CALLS)
    const rawLatency = await sequentialLatencies(raw.call, LATENCY_CALLS)
    const throughput = await alternating({
      conduit: (n) => concurrently(invoke, n, IN_FLIGHT),
      baseline: (n) => concurrently(raw.call, n, IN_FLIGHT),
      'baseline without acks': (n) => concurrently(noAck.call, n, IN_FLIGHT),
      moleculer: (n) => concurrently(peer, n, IN_FLIGHT),
    })
    const baselineLabel =
      'raw amqplib RPC: direct reply-to, no confirms, zod-parsed input and output, ack after reply'
    const latencyNote = `${LATENCY_CALLS.toLocaleString('en-US')} sequential calls after warm-up`
    const row = { suite: 'amqp', baselineLabel }
    const name = `command round trip, ${IN_FLIGHT} in flight`
    const how = `median of ${TRIALS} trials per side of ~${TRIAL_MS} ms, ABBA order; ${spreads(throughput.trials, 'calls/s')}; ${throughput.cpuNote}`
    return [
      {
        ...row,
        name,
        unit: 'calls/s',
        conduit: throughput.conduit,
        baseline: throughput.baseline,
        higherIsBetter: true,
        peer: { label: moleculer.label, value: throughput.rates.moleculer },
        target: { minRatio: 0.8, minPeerRatio: 1 },
        note: `${how}; ${moleculer.note}`,
      },
      {
        ...row,
        name: `${name}, vs raw without acks`,
        unit: 'calls/s',
        conduit: throughput.conduit,
        baseline: throughput.rates['baseline without acks'],
        baselineLabel:
          'raw amqplib RPC as issue 17 names it: direct reply-to without acks (requests consumed with noAck), no confirms, zod-parsed input and output',
        higherIsBetter: true,
        target: { minRatio: 0.8 },
        note: 'the conduit figure of the row above (the same trials)',
      },
      {
        ...row,
        name: 'command round trip, sequential p50',
        unit: 'µs',
        conduit: percentile(conduitLatency, 50),
        baseline: percentile(rawLatency, 50),
        higherIsBetter: false,
        note: latencyNote,
      },
      {
        ...row,
        name: 'command round trip, sequential p99',
        unit: 'µs',
        conduit: percentile(conduitLatency, 99),
        baseline: percentile(rawLatency, 99),
        higherIsBetter: false,
        note: latencyNote,
      },
    ]
  } finally {
    await noAck.close()
    await raw.close()
  }
}

/** A consuming bridge running one ledger subscription that counts, and a bridge to publish from. */
async function ledgerPair(
  prefix: string,
  bridges: AmqpBridge[],
  makeLedger: (hit: () => void) => ReturnType<typeof createService>,
) {
  const consumer = new AmqpBridge({ url: URL, prefix, prefetch: PREFETCH })
  const publisher = new AmqpBridge({ url: URL, prefix })
  bridges.push(consumer, publisher)
  await consumer.start()
  await publisher.start()
  const conduitEvents = new DeliveryCounter('Conduit events')
  await (await makeLedger(() => conduitEvents.hit()).getInstance(consumer)).start()
  return { publisher, conduitEvents }
}

/** At-most-once events: Conduit's confirmed emits into an at-most-once subscription, beside the raw fanout and Moleculer. */
async function atMostOnceEventCells(
  prefix: string,
  bridges: AmqpBridge[],
  moleculer: MoleculerScenario,
): Promise<BenchRow[]> {
  const { publisher, conduitEvents } = await ledgerPair(prefix, bridges, (hit) =>
    createService(fastLedgerV1, { subscriptions: [handleSubscription(recordFast, async () => hit())] }),
  )
  const rawEvents = new DeliveryCounter('raw client events')
  const raw = await startRawFanout(URL, `${prefix}.raw.fanout`, rawEvents)
  const emit = () => publisher.emit(depositMade.name, SAMPLE)
  const peerEmit = () => moleculer.emit(SAMPLE)
  const drive = (send: () => Promise<unknown>, counter: DeliveryCounter, count: number) =>
    driveEvents(send, counter, count, { inFlight: IN_FLIGHT, window: EVENT_WINDOW })
  try {
    await drive(emit, conduitEvents, 3_000) // warm-up
    await drive(raw.emit, rawEvents, 3_000)
    await drive(peerEmit, moleculer.events, 3_000)
    const throughput = await alternating({
      conduit: (n) => drive(emit, conduitEvents, n),
      baseline: (n) => drive(raw.emit, rawEvents, n),
      moleculer: (n) => drive(peerEmit, moleculer.events, n),
    })
    return [
      {
        suite: 'amqp',
        name: `at-most-once event throughput, ${IN_FLIGHT} emits in flight → consume`,
        unit: 'events/s',
        conduit: throughput.conduit,
        baseline: throughput.baseline,
        baselineLabel:
          'raw amqplib as issue 17 names it: fanout exchange, transient publish without confirms, exclusive queue consumed without acks, JSON + zod parse',
        higherIsBetter: true,
        peer: { label: moleculer.label, value: throughput.rates.moleculer },
        target: { minRatio: 0.8, minPeerRatio: 1 },
        note:
          `conduit: emit() resolves on the publish confirm (the bridge confirms every event) into an at-most-once ` +
          `subscription, acked on receipt (prefetch ${PREFETCH}); timed until the last event was consumed, at most ` +
          `${EVENT_WINDOW.toLocaleString('en-US')} unconsumed; median of ${TRIALS} trials per side, ABBA order; ` +
          `${spreads(throughput.trials, 'events/s')}; ${throughput.cpuNote}; ${moleculer.note}`,
      },
    ]
  } finally {
    await raw.close()
  }
}

async function durableEventCells(prefix: string, bridges: AmqpBridge[]): Promise<BenchRow[]> {
  const { publisher, conduitEvents } = await ledgerPair(prefix, bridges, (hit) =>
    createService(ledgerV1, { subscriptions: [handleSubscription(recordDeposit, async () => hit())] }),
  )
  const rawEvents = new DeliveryCounter('raw client events')
  const raw = await startRawDurable(URL, `${prefix}.raw.events`, `${prefix}.raw.ledger`, rawEvents)
  const emit = () => publisher.emit(depositMade.name, SAMPLE)
  try {
    await drive(emit, conduitEvents, 3_000) // warm-up
    await drive(raw.emit, rawEvents, 3_000)
    const throughput = await alternating({
      conduit: (n) => drive(emit, conduitEvents, n),
      baseline: (n) => drive(raw.emit, rawEvents, n),
    })
    return [
      {
        suite: 'amqp',
        name: `durable event throughput, ${IN_FLIGHT} confirmed emits in flight → acked consume`,
        unit: 'events/s',
        conduit: throughput.conduit,
        baseline: throughput.baseline,
        baselineLabel: 'raw amqplib: confirm channel, persistent messages, durable queue, zod-parse then ack',
        higherIsBetter: true,
        target: { minRatio: 0.7 },
        note: `timed until the last event was consumed; median of ${TRIALS} trials per side, ABBA order; conduit ${spread(throughput.trials.conduit)}, baseline ${spread(throughput.trials.baseline)} events/s; ${throughput.cpuNote}`,
      },
    ]
  } finally {
    await raw.close()
  }
}

const amqp: BenchSuite = {
  name: 'amqp',
  description:
    'AmqpBridge against the RabbitMQ on 127.0.0.1:5672 (server and client are separate connections in one ' +
    'process): command round trips (confirmed mandatory publish, per-message TTL, direct reply-to, ack after ' +
    'the handler), durable events (confirmed persistent publish, ack after the handler) and at-most-once events ' +
    '(confirmed publish, ack on receipt), each beside plain amqplib doing the same work in the same run; commands ' +
    "and at-most-once events also beside Moleculer's AMQP transporter (a caller node and a calc node, two " +
    'brokers in this process).',
  async unavailable() {
    try {
      await (await connectAmqp(URL, { noDelay: true })).close()
      return undefined
    } catch (error) {
      return `RabbitMQ not reachable at ${URL.replace(/\/\/[^@]*@/, '//')}: ${(error as Error).message}`
    }
  },
  async run() {
    const prefix = uniquePrefix('bench')
    const bridges: AmqpBridge[] = []
    const moleculer = await startMoleculerPair(moleculerAmqp(URL), peerWork, {
      params: SAMPLE,
      event: SAMPLE,
    })
    try {
      return [
        ...(await commandCells(prefix, bridges, moleculer)),
        ...(await durableEventCells(prefix, bridges)),
        // a prefix (so an exchange) of its own: the durable cell's subscription must not take these events
        ...(await atMostOnceEventCells(`${prefix}.amo`, bridges, moleculer)),
      ]
    } finally {
      await moleculer.stop()
      for (const bridge of bridges) await bridge.stop()
      await deleteDeclaredTopology(
        bridges.map((bridge) => bridge.declaredTopology),
        URL,
      )
    }
  },
}

export default amqp
