import { NatsBridge } from '../../packages/nats/src/index.js'
import {
  AckPolicy,
  connect,
  jetstream,
  NatsAdmin,
  type NatsConnection,
  RetentionPolicy,
  uniquePrefix,
} from '../../packages/nats/src/testing.js'
import {
  accountV1,
  deposit,
  depositCommand,
  depositInput,
  depositMade,
  depositOutput,
  SAMPLE,
} from '../lib/deposit.js'
import {
  alternatingTrials,
  concurrently,
  DeliveryCounter,
  percentile,
  sequentialLatencies,
  spread,
} from '../lib/measure.js'
import { createService, defineService, handleCommand, handleSubscription } from '../lib/workspace.js'
import type { BenchRow, BenchSuite } from '../types.js'

// NatsBridge beside plain nats.js doing the same work against the same server, in the same run.
// Both sides validate with the same zod schemas and JSON-encode, so the ratio is the runtime's
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

const alternating = (sides: Parameters<typeof alternatingTrials>[0]) =>
  alternatingTrials(sides, { trials: TRIALS, trialMs: TRIAL_MS, minCount: 2000 })

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

type Throughput = Awaited<ReturnType<typeof alternating>>

/** A throughput cell: median rate of the alternating trials, with their spread in the note. */
function throughputRow(
  name: string,
  unit: string,
  throughput: Throughput,
  baselineLabel: string,
  minRatio: number,
  how: string,
): BenchRow {
  const { conduit, baseline, trials } = throughput
  return {
    suite: 'nats',
    name,
    unit,
    conduit,
    baseline,
    baselineLabel,
    higherIsBetter: true,
    target: { minRatio },
    note: `${how}median of ${TRIALS} alternating trials of ~${TRIAL_MS} ms; conduit ${spread(trials.conduit)}, baseline ${spread(trials.baseline)} ${unit}`,
  }
}

/**
 * Plain nats.js request/reply, the fastest way: the server answers on a queue subscription; the
 * client publishes with one shared inbox as reply subject and matches replies by an id it puts
 * in the message (nc.request() per call is several times slower).
 */
async function startRawRpc(subject: string) {
  const server = await connect({ servers: SERVERS })
  const answer = async (data: Uint8Array, reply: string) => {
    const { id, input } = JSON.parse(new TextDecoder().decode(data)) as { id: number; input: unknown }
    const output = depositOutput.parse(await deposit(depositInput.parse(input)))
    server.publish(reply, JSON.stringify({ id, output }))
  }
  server.subscribe(subject, {
    queue: 'raw',
    callback: (_error, msg) => {
      if (msg.reply) void answer(msg.data, msg.reply)
    },
  })
  await server.flush()
  const client = await connect({ servers: SERVERS })
  const inbox = `${subject}.inbox`
  const waiting = new Map<number, (value: unknown) => void>()
  client.subscribe(inbox, {
    callback: (_error, msg) => {
      const { id, output } = JSON.parse(new TextDecoder().decode(msg.data)) as { id: number; output: unknown }
      waiting.get(id)?.(depositOutput.parse(output))
      waiting.delete(id)
    },
  })
  await client.flush()
  let next = 0
  const call = () =>
    new Promise((resolve) => {
      const id = next++
      waiting.set(id, resolve)
      client.publish(subject, JSON.stringify({ id, input: SAMPLE }), { reply: inbox })
    })
  const close = async () => {
    await client.drain()
    await server.drain()
  }
  return { call, close }
}

/**
 * Publishes `count` events one after another (each emit awaited, IN_FLIGHT at once when
 * `inFlight` says so) and waits until all were consumed, never more than EVENT_WINDOW ahead.
 */
async function drive(
  emit: () => Promise<unknown>,
  counter: DeliveryCounter,
  count: number,
  inFlight = 1,
): Promise<number> {
  const base = counter.count
  const started = performance.now()
  for (let sent = 0; sent < count; ) {
    const chunk = Math.min(1_000, count - sent)
    await concurrently(emit, chunk, inFlight)
    sent += chunk
    // let the socket write and the subscriber read (publishes alone never yield to I/O)
    await new Promise((resolve) => setImmediate(resolve))
    if (sent - (counter.count - base) > EVENT_WINDOW) await counter.until(base + sent - EVENT_WINDOW)
  }
  await counter.until(base + count)
  return performance.now() - started
}

async function connectedBridge(prefix: string, bridges: NatsBridge[]): Promise<NatsBridge> {
  const bridge = new NatsBridge({ servers: SERVERS, prefix })
  bridges.push(bridge)
  await bridge.start()
  return bridge
}

async function commandCells(prefix: string, bridges: NatsBridge[]): Promise<BenchRow[]> {
  const server = await connectedBridge(prefix, bridges)
  const client = await connectedBridge(prefix, bridges)
  const account = createService(accountV1, {
    commands: [handleCommand(depositCommand, (input) => deposit(input))],
  })
  await (await account.getInstance(server)).start()
  const raw = await startRawRpc(`${prefix}.raw.rpc`)
  const invoke = () => client.invoke(depositCommand, SAMPLE)
  try {
    await concurrently(invoke, 5_000, IN_FLIGHT) // warm-up
    await concurrently(raw.call, 5_000, IN_FLIGHT)
    const { conduit: conduitLatency, baseline: rawLatency } = await alternatingLatencies(invoke, raw.call)
    const throughput = await alternating({
      conduit: (n) => concurrently(invoke, n, IN_FLIGHT),
      baseline: (n) => concurrently(raw.call, n, IN_FLIGHT),
    })
    const baselineLabel =
      'raw nats.js: publish with one shared inbox, replies matched by id, zod-parsed input and output'
    const row = { suite: 'nats', baselineLabel, higherIsBetter: false, unit: 'µs' }
    const latencyNote = `${LATENCY_CALLS.toLocaleString('en-US')} sequential calls per side after warm-up, in alternating blocks of ${LATENCY_BLOCK}`
    return [
      throughputRow(
        `command round trip, ${IN_FLIGHT} in flight`,
        'calls/s',
        throughput,
        baselineLabel,
        0.8,
        '',
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
    await raw.close()
  }
}

/** Plain nats.js pub/sub: a queue subscription that parses and validates each event. */
async function startRawAtMostOnce(subject: string, counter: DeliveryCounter) {
  const subscriber = await connect({ servers: SERVERS })
  subscriber.subscribe(subject, {
    queue: 'raw',
    callback: (_error, msg) => {
      depositMade.schema.parse(JSON.parse(new TextDecoder().decode(msg.data)))
      counter.hit()
    },
  })
  await subscriber.flush()
  const publisher = await connect({ servers: SERVERS })
  const emit = async () => publisher.publish(subject, JSON.stringify(SAMPLE))
  const close = async () => {
    await publisher.drain()
    await subscriber.drain()
  }
  return { emit, close }
}

async function atMostOnceCells(prefix: string, bridges: NatsBridge[]): Promise<BenchRow[]> {
  const consumer = await connectedBridge(prefix, bridges)
  const publisher = await connectedBridge(prefix, bridges)
  const conduitEvents = new DeliveryCounter()
  const ledger = createService(ledgerV1, {
    subscriptions: [handleSubscription(recordFast, async () => conduitEvents.hit())],
  })
  await (await ledger.getInstance(consumer)).start()
  const rawEvents = new DeliveryCounter()
  const raw = await startRawAtMostOnce(`${prefix}.raw.events`, rawEvents)
  const emit = () => publisher.emit(depositMade.name, SAMPLE)
  try {
    await drive(emit, conduitEvents, 5_000) // warm-up
    await drive(raw.emit, rawEvents, 5_000)
    const throughput = await alternating({
      conduit: (n) => drive(emit, conduitEvents, n),
      baseline: (n) => drive(raw.emit, rawEvents, n),
    })
    return [
      throughputRow(
        'at-most-once event throughput, emit → consume',
        'events/s',
        throughput,
        'raw nats.js: core publish, queue subscription, JSON + zod parse',
        0.8,
        `timed until the last event was consumed, at most ${EVENT_WINDOW.toLocaleString('en-US')} unconsumed; `,
      ),
    ]
  } finally {
    await raw.close()
  }
}

/** Plain nats.js JetStream: acked publishes into an interest stream, a durable pull consumer acking each. */
async function startRawDurable(prefix: string, counter: DeliveryCounter) {
  const subject = `${prefix}.raw.durable`
  const stream = `${prefix}_raw_durable`
  const admin = await NatsAdmin.connect(SERVERS)
  await admin.jsm.streams.add({ name: stream, subjects: [subject], retention: RetentionPolicy.Interest })
  await admin.jsm.consumers.add(stream, { durable_name: 'raw', ack_policy: AckPolicy.Explicit })
  const consumerConnection = await connect({ servers: SERVERS })
  const consumer = await jetstream(consumerConnection).consumers.get(stream, 'raw')
  const messages = await consumer.consume({
    max_messages: 512,
    callback: (msg) => {
      depositMade.schema.parse(JSON.parse(new TextDecoder().decode(msg.data)))
      msg.ack()
      counter.hit()
    },
  })
  // the fastest raw setting: no per-request Error objects (NatsBridge sets it too)
  const publisher: NatsConnection = await connect({ servers: SERVERS, noAsyncTraces: true })
  const js = jetstream(publisher)
  const emit = () => js.publish(subject, JSON.stringify(SAMPLE))
  const close = async () => {
    await messages.close()
    await publisher.drain()
    await consumerConnection.drain()
    await admin.jsm.streams.delete(stream)
    await admin.close()
  }
  return { emit, close }
}

async function durableCells(prefix: string, bridges: NatsBridge[]): Promise<BenchRow[]> {
  const consumer = await connectedBridge(prefix, bridges)
  const conduitEvents = new DeliveryCounter()
  const audit = createService(auditV1, {
    subscriptions: [handleSubscription(recordDurable, async () => conduitEvents.hit())],
  })
  await (await audit.getInstance(consumer)).start()
  // started after the consumer exists, so it knows at once that these emits need JetStream
  const publisher = await connectedBridge(prefix, bridges)
  const rawEvents = new DeliveryCounter()
  const raw = await startRawDurable(prefix, rawEvents)
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
    'same work in the same run.',
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
    try {
      return [
        ...(await commandCells(prefix, bridges)),
        ...(await atMostOnceCells(prefix, bridges)),
        ...(await durableCells(prefix, bridges)),
      ]
    } finally {
      for (const bridge of bridges) await bridge.stop()
      const admin = await NatsAdmin.connect(SERVERS)
      await admin.deleteNamespace(prefix)
      await admin.close()
    }
  },
}

export default nats
