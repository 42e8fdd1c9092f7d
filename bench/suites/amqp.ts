import { AmqpBridge, DEFAULT_AMQP_URL } from '../../packages/amqp/src/index.js'
import {
  type ConsumeMessage,
  connectAmqp,
  deleteDeclaredTopology,
  uniquePrefix,
} from '../../packages/amqp/src/testing.js'
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

// Conduit over RabbitMQ beside plain amqplib doing the same work against the same broker, in
// the same run: a direct reply-to RPC, and confirmed durable publish / acked consume.

const URL = process.env.CONDUIT_AMQP_URL ?? DEFAULT_AMQP_URL
const DIRECT_REPLY_TO = 'amq.rabbitmq.reply-to'
const IN_FLIGHT = 100
const PREFETCH = 100
const TRIALS = 10
const TRIAL_MS = 500
const LATENCY_CALLS = 3_000

const ledgerV1 = defineService({ name: 'benchLedger', version: '1' })
const recordDeposit = ledgerV1.subscription('record', { event: depositMade, delivery: 'durable' })

const alternating = (sides: Parameters<typeof alternatingTrials>[0]) =>
  alternatingTrials(sides, { trials: TRIALS, trialMs: TRIAL_MS, minCount: 2000 })

/** Plain amqplib RPC: a server consuming one queue (ack after reply), a client on direct reply-to. */
async function startRawRpc(queue: string) {
  const serverConnection = await connectAmqp(URL, { noDelay: true })
  const server = await serverConnection.createChannel()
  await server.assertQueue(queue, { durable: false, autoDelete: true })
  await server.prefetch(PREFETCH)
  await server.consume(queue, async (message) => {
    if (!message) return
    const output = depositOutput.parse(
      await deposit(depositInput.parse(JSON.parse(message.content.toString()))),
    )
    server.publish('', message.properties.replyTo, Buffer.from(JSON.stringify(output)), {
      correlationId: message.properties.correlationId,
    })
    server.ack(message)
  })
  const clientConnection = await connectAmqp(URL, { noDelay: true })
  const client = await clientConnection.createChannel()
  const waiting = new Map<string, (value: unknown) => void>()
  await client.consume(
    DIRECT_REPLY_TO,
    (message) => {
      const id = message?.properties.correlationId as string
      waiting.get(id)?.(JSON.parse(message!.content.toString()))
      waiting.delete(id)
    },
    { noAck: true },
  )
  let next = 0
  const call = () =>
    new Promise((resolve) => {
      const correlationId = String(next++)
      waiting.set(correlationId, resolve)
      client.publish('', queue, Buffer.from(JSON.stringify(SAMPLE)), {
        replyTo: DIRECT_REPLY_TO,
        correlationId,
      })
    })
  const close = async () => {
    await clientConnection.close()
    await serverConnection.close()
  }
  return { call, close }
}

/** Plain amqplib durable pub/sub: confirmed persistent publishes, a durable queue acked after parsing. */
async function startRawDurable(exchange: string, queue: string, counter: DeliveryCounter) {
  const consumerConnection = await connectAmqp(URL, { noDelay: true })
  const consumer = await consumerConnection.createChannel()
  await consumer.assertExchange(exchange, 'topic', { durable: true })
  await consumer.assertQueue(queue, { durable: true })
  await consumer.bindQueue(queue, exchange, depositMade.name)
  await consumer.prefetch(PREFETCH)
  await consumer.consume(queue, (message: ConsumeMessage | null) => {
    if (!message) return
    depositMade.schema.parse(JSON.parse(message.content.toString()))
    consumer.ack(message)
    counter.hit()
  })
  const publisherConnection = await connectAmqp(URL, { noDelay: true })
  const publisher = await publisherConnection.createConfirmChannel()
  const emit = () =>
    new Promise<void>((resolve, reject) => {
      const body = Buffer.from(JSON.stringify(SAMPLE))
      publisher.publish(exchange, depositMade.name, body, { persistent: true }, (error) =>
        error ? reject(error) : resolve(),
      )
    })
  const close = async () => {
    await publisherConnection.close()
    await consumer.deleteQueue(queue)
    await consumer.deleteExchange(exchange)
    await consumerConnection.close()
  }
  return { emit, close }
}

/** Emits `count` events, IN_FLIGHT confirmed emits at a time, then waits until all were consumed. */
async function drive(emit: () => Promise<unknown>, counter: DeliveryCounter, count: number): Promise<number> {
  const expected = counter.count + count
  const started = performance.now()
  await concurrently(emit, count, IN_FLIGHT)
  await counter.until(expected)
  return performance.now() - started
}

async function commandCells(prefix: string, bridges: AmqpBridge[]): Promise<BenchRow[]> {
  const server = new AmqpBridge({ url: URL, prefix, prefetch: PREFETCH })
  const client = new AmqpBridge({ url: URL, prefix })
  bridges.push(server, client)
  await server.start()
  await client.start()
  const account = createService(accountV1, {
    commands: [handleCommand(depositCommand, (input) => deposit(input))],
  })
  await (await account.getInstance(server)).start()
  const raw = await startRawRpc(`${prefix}.raw.rpc`)
  const invoke = () => client.invoke(depositCommand, SAMPLE)
  try {
    await concurrently(invoke, 5_000, IN_FLIGHT) // warm-up
    await concurrently(raw.call, 5_000, IN_FLIGHT)
    const conduitLatency = await sequentialLatencies(invoke, LATENCY_CALLS)
    const rawLatency = await sequentialLatencies(raw.call, LATENCY_CALLS)
    const throughput = await alternating({
      conduit: (n) => concurrently(invoke, n, IN_FLIGHT),
      baseline: (n) => concurrently(raw.call, n, IN_FLIGHT),
    })
    const baselineLabel =
      'raw amqplib RPC: direct reply-to, no confirms, zod-parsed input and output, ack after reply'
    const latencyNote = `${LATENCY_CALLS.toLocaleString('en-US')} sequential calls after warm-up`
    const row = { suite: 'amqp', baselineLabel }
    return [
      {
        ...row,
        name: `command round trip, ${IN_FLIGHT} in flight`,
        unit: 'calls/s',
        conduit: throughput.conduit,
        baseline: throughput.baseline,
        higherIsBetter: true,
        target: { minRatio: 0.8 },
        note: `median of ${TRIALS} trials per side of ~${TRIAL_MS} ms, ABBA order; conduit ${spread(throughput.trials.conduit)}, baseline ${spread(throughput.trials.baseline)} calls/s; ${throughput.cpuNote}`,
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
    await raw.close()
  }
}

async function durableEventCells(prefix: string, bridges: AmqpBridge[]): Promise<BenchRow[]> {
  const consumer = new AmqpBridge({ url: URL, prefix, prefetch: PREFETCH })
  const publisher = new AmqpBridge({ url: URL, prefix })
  bridges.push(consumer, publisher)
  await consumer.start()
  await publisher.start()
  const conduitEvents = new DeliveryCounter()
  const ledger = createService(ledgerV1, {
    subscriptions: [handleSubscription(recordDeposit, async () => conduitEvents.hit())],
  })
  await (await ledger.getInstance(consumer)).start()
  const rawEvents = new DeliveryCounter()
  const raw = await startRawDurable(`${prefix}.raw.events`, `${prefix}.raw.ledger`, rawEvents)
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
    'the handler) and durable events (confirmed persistent publish, ack after the handler), each beside plain ' +
    'amqplib doing the same work in the same run.',
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
    try {
      return [...(await commandCells(prefix, bridges)), ...(await durableEventCells(prefix, bridges))]
    } finally {
      for (const bridge of bridges) await bridge.stop()
      await deleteDeclaredTopology(
        bridges.map((bridge) => bridge.declaredTopology),
        URL,
      )
    }
  },
}

export default amqp
