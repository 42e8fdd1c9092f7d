import { DEFAULT_MQTT_URL, MqttBridge } from '../../packages/mqtt/src/index.js'
import {
  connectAsync,
  type MqttClient,
  purgeMqttNamespace,
  uniqueMqttPrefix,
} from '../../packages/mqtt/src/testing.js'
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
import { type MoleculerScenario, moleculerMqtt, startMoleculerPair } from '../lib/moleculer.js'
import { createService, defineService, handleCommand, handleSubscription } from '../lib/workspace.js'
import type { BenchRow, BenchSuite } from '../types.js'

// MqttBridge beside plain mqtt.js doing the same work against the same Mosquitto, in the same
// run: MQTT 5 request/response (response topic + correlation data) at QoS 0 and at QoS 1, and
// publish/subscribe events. Both sides JSON-encode and zod-parse, so the ratio is the runtime's
// cost (envelope, correlation, deadlines, tracing hooks), not the business logic's. Commands at
// QoS 0 and events also run beside Moleculer's MQTT transporter (QoS 0 by default).

const URL = process.env.CONDUIT_MQTT_URL ?? DEFAULT_MQTT_URL
const IN_FLIGHT = 100
const TRIALS = 5
const TRIAL_MS = 400
/** sequential calls per latency sample, or fewer if they take longer than LATENCY_MS (QoS 1 stalls on Nagle) */
const LATENCY_CALLS = 1_500
const LATENCY_MS = 1_500

const ledgerV1 = defineService({ name: 'benchLedger', version: '1' })
const recordFast = ledgerV1.subscription('recordFast', { event: depositMade })

type Qos = 0 | 1

const alternating = <S extends string = never>(sides: TrialSides<S>) =>
  alternatingTrials(sides, { trials: TRIALS, trialMs: TRIAL_MS, minCount: 1000 })

/** Moleculer's rate beside a throughput row, its spread and setup in the note; target: at least Moleculer's. */
function withMoleculer(
  row: BenchRow,
  throughput: {
    rates: { conduit: number; moleculer?: number }
    trials: { conduit: number[]; moleculer?: number[] }
  },
  moleculer: MoleculerScenario | undefined,
): BenchRow {
  if (!moleculer || throughput.rates.moleculer === undefined || !throughput.trials.moleculer) return row
  return {
    ...row,
    peer: { label: moleculer.label, value: throughput.rates.moleculer },
    target: { ...row.target, minPeerRatio: 1 },
    note: `${row.note}; Moleculer ${spread(throughput.trials.moleculer)} ${row.unit}; ${moleculer.note}`,
  }
}

/** A plain mqtt.js client with TCP_NODELAY, like the bridge's connections (see MqttConnection). */
async function rawClient(prefix: string, role: string): Promise<MqttClient> {
  const client = await connectAsync(URL, {
    protocolVersion: 5,
    clientId: `conduit-bench-raw-${role}-${prefix.replaceAll('/', '-')}`,
  })
  ;(client.stream as { setNoDelay?: (noDelay: boolean) => void }).setNoDelay?.(true)
  return client
}

/**
 * Plain mqtt.js MQTT 5 request/response: the responder holds a shared subscription and answers
 * on the request's response topic with its correlation data; the requester has one response
 * topic and matches answers by correlation data. Both legs at `qos`.
 */
async function startRawRpc(prefix: string, qos: Qos) {
  const requestTopic = `${prefix}/raw/rpc/${qos}`
  const responseTopic = `${prefix}/raw/reply/${qos}`
  const responder = await rawClient(prefix, `responder${qos}`)
  responder.on('message', (_topic, payload, packet) => {
    const { responseTopic: replyTo, correlationData } = packet.properties ?? {}
    if (!replyTo) return
    void deposit(depositInput.parse(JSON.parse(payload.toString()))).then((output) => {
      const body = JSON.stringify(depositOutput.parse(output))
      responder.publish(replyTo, body, { qos, properties: correlationData ? { correlationData } : {} })
    })
  })
  await responder.subscribeAsync(`$share/raw/${requestTopic}`, { qos })
  const requester = await rawClient(prefix, `requester${qos}`)
  const waiting = new Map<string, (value: unknown) => void>()
  requester.on('message', (_topic, payload, packet) => {
    const id = packet.properties?.correlationData?.toString() ?? ''
    waiting.get(id)?.(depositOutput.parse(JSON.parse(payload.toString())))
    waiting.delete(id)
  })
  await requester.subscribeAsync(responseTopic, { qos })
  let next = 0
  const call = () =>
    new Promise((resolve) => {
      const id = String(next++)
      waiting.set(id, resolve)
      requester.publish(requestTopic, JSON.stringify(SAMPLE), {
        qos,
        properties: { responseTopic, correlationData: Buffer.from(id) },
      })
    })
  const close = async () => {
    await requester.endAsync()
    await responder.endAsync()
  }
  return { call, close }
}

/** How many sequential calls fit in about LATENCY_MS, from the median of a short probe (at least 50). */
async function latencyCallCount(call: () => Promise<unknown>): Promise<number> {
  const probe = await sequentialLatencies(call, 21)
  const medianMs = percentile(probe, 50) / 1_000
  return Math.max(50, Math.min(LATENCY_CALLS, Math.round(LATENCY_MS / medianMs)))
}

async function startedBridge(prefix: string, bridges: MqttBridge[], commandQos: Qos): Promise<MqttBridge> {
  const bridge = new MqttBridge({ url: URL, prefix, commandQos, clientIdBase: 'conduit-bench' })
  bridges.push(bridge)
  await bridge.start()
  return bridge
}

/** `moleculer` (at its default QoS 0) runs beside the QoS 0 cells only. */
async function commandCells(
  prefix: string,
  bridges: MqttBridge[],
  qos: Qos,
  moleculer?: MoleculerScenario,
): Promise<BenchRow[]> {
  const server = await startedBridge(prefix, bridges, qos)
  const client = await startedBridge(prefix, bridges, qos)
  const account = createService(accountV1, {
    commands: [handleCommand(depositCommand, (input) => deposit(input))],
  })
  await (await account.getInstance(server)).start()
  const raw = await startRawRpc(prefix, qos)
  const invoke = () => client.invoke(depositCommand, SAMPLE)
  try {
    await concurrently(invoke, 3_000, IN_FLIGHT) // warm-up
    await concurrently(raw.call, 3_000, IN_FLIGHT)
    const peer = moleculer && (() => moleculer.call(SAMPLE))
    if (peer) await concurrently(peer, 3_000, IN_FLIGHT)
    const calls = await latencyCallCount(raw.call)
    const conduitLatency = await sequentialLatencies(invoke, calls)
    const rawLatency = await sequentialLatencies(raw.call, calls)
    const sides = {
      conduit: (n: number) => concurrently(invoke, n, IN_FLIGHT),
      baseline: (n: number) => concurrently(raw.call, n, IN_FLIGHT),
    }
    const throughput = peer
      ? await alternating({ ...sides, moleculer: (n: number) => concurrently(peer, n, IN_FLIGHT) })
      : await alternating(sides)
    const row = {
      suite: 'mqtt',
      baselineLabel: `raw mqtt.js MQTT 5 request/response at QoS ${qos} (TCP_NODELAY like the bridge): shared subscription, one response topic, correlation data, zod-parsed input and output`,
    }
    const latencyNote = `${calls.toLocaleString('en-US')} sequential calls after warm-up`
    const throughputRow: BenchRow = {
      ...row,
      name: `command round trip at QoS ${qos}, ${IN_FLIGHT} in flight`,
      unit: 'calls/s',
      conduit: throughput.conduit,
      baseline: throughput.baseline,
      higherIsBetter: true,
      target: { minRatio: 0.8 },
      note: `median of ${TRIALS} alternating trials of ~${TRIAL_MS} ms; conduit ${spread(throughput.trials.conduit)}, baseline ${spread(throughput.trials.baseline)} calls/s`,
    }
    return [
      withMoleculer(throughputRow, throughput, moleculer),
      {
        ...row,
        name: `command round trip at QoS ${qos}, sequential p50`,
        unit: 'µs',
        conduit: percentile(conduitLatency, 50),
        baseline: percentile(rawLatency, 50),
        higherIsBetter: false,
        note: latencyNote,
      },
      {
        ...row,
        name: `command round trip at QoS ${qos}, sequential p99`,
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

/** Emits `count` events, IN_FLIGHT confirmed publishes at a time, and waits until all were consumed. */
async function drive(emit: () => Promise<unknown>, counter: DeliveryCounter, count: number): Promise<number> {
  const base = counter.count
  const started = performance.now()
  await concurrently(emit, count, IN_FLIGHT)
  await counter.until(base + count)
  return performance.now() - started
}

/**
 * Moleculer's emits at QoS 0 resolve before the broker has them, so "in flight" bounds nothing: a
 * free-running burst overran the subscriber's queue in Mosquitto (max_queued_messages, 1000 by
 * default), which dropped 14,320 of 30,716 events in one run. Its emits are held within
 * PEER_WINDOW events of its consumer instead.
 */
const PEER_WINDOW = 500
const drivePeer = (emit: () => Promise<unknown>, counter: DeliveryCounter, count: number) =>
  driveEvents(emit, counter, count, { inFlight: IN_FLIGHT, window: PEER_WINDOW })

/** Plain mqtt.js pub/sub like the bridge's at-most-once events: QoS 1 publish, QoS 0 shared subscription. */
async function startRawEvents(prefix: string, counter: DeliveryCounter) {
  const topic = `${prefix}/raw/events`
  const subscriber: MqttClient = await rawClient(prefix, 'subscriber')
  subscriber.on('message', (_topic, payload) => {
    depositMade.schema.parse(JSON.parse(payload.toString()))
    counter.hit()
  })
  await subscriber.subscribeAsync(`$share/raw/${topic}`, { qos: 0 })
  const publisher = await rawClient(prefix, 'publisher')
  const emit = () => publisher.publishAsync(topic, JSON.stringify(SAMPLE), { qos: 1 })
  const close = async () => {
    await publisher.endAsync()
    await subscriber.endAsync()
  }
  return { emit, close }
}

async function eventCells(
  prefix: string,
  bridges: MqttBridge[],
  moleculer: MoleculerScenario,
): Promise<BenchRow[]> {
  const consumer = await startedBridge(prefix, bridges, 1)
  const publisher = await startedBridge(prefix, bridges, 1)
  const conduitEvents = new DeliveryCounter('Conduit events')
  const ledger = createService(ledgerV1, {
    subscriptions: [handleSubscription(recordFast, async () => conduitEvents.hit())],
  })
  await (await ledger.getInstance(consumer)).start()
  const rawEvents = new DeliveryCounter('raw client events')
  const raw = await startRawEvents(prefix, rawEvents)
  const emit = () => publisher.emit(depositMade.name, SAMPLE)
  const peerEmit = () => moleculer.emit(SAMPLE)
  try {
    await drive(emit, conduitEvents, 3_000) // warm-up
    await drive(raw.emit, rawEvents, 3_000)
    await drivePeer(peerEmit, moleculer.events, 3_000)
    const throughput = await alternating({
      conduit: (n) => drive(emit, conduitEvents, n),
      baseline: (n) => drive(raw.emit, rawEvents, n),
      moleculer: (n) => drivePeer(peerEmit, moleculer.events, n),
    })
    const row: BenchRow = {
      suite: 'mqtt',
      name: `at-most-once event throughput, ${IN_FLIGHT} confirmed emits in flight → consume`,
      unit: 'events/s',
      conduit: throughput.conduit,
      baseline: throughput.baseline,
      baselineLabel:
        'raw mqtt.js (TCP_NODELAY like the bridge): QoS 1 publish, QoS 0 shared subscription, JSON + zod parse',
      higherIsBetter: true,
      note: `timed until the last event was consumed; median of ${TRIALS} alternating trials; conduit ${spread(throughput.trials.conduit)}, baseline ${spread(throughput.trials.baseline)} events/s`,
    }
    const peerRow = withMoleculer(row, throughput, moleculer)
    peerRow.note += `; Moleculer's QoS 0 emits held within ${PEER_WINDOW} events of its consumer (free-running, Mosquitto dropped about half of them at its 1000-message client queue)`
    return [peerRow]
  } finally {
    await raw.close()
  }
}

const mqtt: BenchSuite = {
  name: 'mqtt',
  description:
    'MqttBridge against the Mosquitto on 127.0.0.1:1883 with its default settings (every bridge and raw client ' +
    'is its own connection, all in one process): command round trips on MQTT 5 request/response at QoS 0 and ' +
    'QoS 1 (`commandQos`, 0 by default), and at-most-once events, each beside plain mqtt.js doing the same work in ' +
    'the same run. Mosquitto leaves Nagle on (`set_tcp_nodelay false`), which costs QoS 1 latency: see docs/bridges/mqtt.md. ' +
    "Commands at QoS 0 and events also run beside Moleculer's MQTT transporter at its defaults (MQTT 3.1.1, QoS 0): " +
    'a caller node and a calc node, two brokers in this process.',
  async unavailable() {
    try {
      const client = await connectAsync(URL, {
        protocolVersion: 5,
        reconnectPeriod: 0,
        connectTimeout: 3_000,
      })
      await client.endAsync()
      return undefined
    } catch (error) {
      return `MQTT 5 broker not reachable at ${URL}: ${(error as Error).message}`
    }
  },
  async run() {
    const prefix = uniqueMqttPrefix('conduit-bench')
    const bridges: MqttBridge[] = []
    const moleculer = await startMoleculerPair(moleculerMqtt(URL), peerWork, {
      params: SAMPLE,
      event: SAMPLE,
    })
    try {
      return [
        // each cell under its own prefix, so one cell's servers never take another's calls
        ...(await commandCells(`${prefix}/qos0`, bridges, 0, moleculer)),
        ...(await commandCells(`${prefix}/qos1`, bridges, 1)),
        ...(await eventCells(`${prefix}/events`, bridges, moleculer)),
      ]
    } finally {
      await moleculer.stop()
      for (const bridge of bridges) await bridge.stop()
      await purgeMqttNamespace(prefix, URL)
    }
  },
}

export default mqtt
