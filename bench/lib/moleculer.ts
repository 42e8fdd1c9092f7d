import { type BrokerOptions, type Context, ServiceBroker } from 'moleculer'
import { DeliveryCounter } from './measure.js'

// Moleculer, the peer the issue compares Conduit with, running the same scenario in the same run:
// a `calc` service whose `add` action does the same work as the suite's raw baseline (zod-parse
// the params, run the same handler, zod-parse the result), and a `ledger` service with one
// handler on the suite's event (zod-parse the payload). Moleculer's own validator is
// fastest-validator; zod keeps the work equal on every side, so the action declares no params
// schema and the default validator middleware has nothing to check.

export const MOLECULER_VERSION = ServiceBroker.MOLECULER_VERSION

/** The suite's work, done by Moleculer's action and event handler. */
export interface CalcWork {
  /** zod-parse the params, run the handler, zod-parse the result: the suite's raw baseline */
  add(params: unknown): Promise<unknown>
  eventName: string
  /** zod-parse the event payload */
  checkEvent(payload: unknown): void
}

export interface MoleculerScenario {
  call(params: object): Promise<unknown>
  emit(payload: object): Promise<unknown>
  /** counts the events the ledger service handled */
  events: DeliveryCounter
  /** the node calls and emits start from */
  callerNodeID: string
  /** for the Baselines section: what runs */
  label: string
  /** for the rows' notes: every setting that differs from Moleculer's defaults, and the wire check */
  note: string
  stop(): Promise<void>
}

/** The settings every setup shares; all else is Moleculer's default. */
const COMMON_DEVIATIONS = `logger off (its default logs to the console); runs on this Node ${process.versions.node}, though 0.15 declares engines node >= 22`
const KEPT_DEFAULTS =
  'kept at its defaults: no request timeout, metrics and tracing off, default validator (idle: no params schema)'
/** what else stays at its default once a transporter is in play */
const KEPT_WIRE_DEFAULTS =
  "JSON serializer, built-in balancer (a call goes to the chosen node's own topic or queue)"

function services(work: CalcWork, events: DeliveryCounter) {
  const calc = {
    name: 'calc',
    actions: { add: { handler: (ctx: Context<object>) => work.add(ctx.params) } },
  }
  const ledger = {
    name: 'ledger',
    events: {
      [work.eventName]: {
        handler(ctx: Context<object>) {
          work.checkEvent(ctx.params)
          events.hit()
        },
      },
    },
  }
  return { calc, ledger }
}

/** Moleculer's local broker: one broker, no transporter, action and event handled in process. */
export async function startLocalMoleculer(work: CalcWork): Promise<MoleculerScenario> {
  const events = new DeliveryCounter('Moleculer events')
  const broker = new ServiceBroker({ logger: false, nodeID: 'bench-local' })
  const { calc, ledger } = services(work, events)
  broker.createService(calc)
  broker.createService(ledger)
  await broker.start()
  return {
    call: (params) => broker.call('calc.add', params),
    emit: (payload) => broker.emit(work.eventName, payload),
    events,
    callerNodeID: broker.nodeID,
    label: `Moleculer ${MOLECULER_VERSION} local broker (no transporter): \`calc.add\` action and one event handler, each zod-parsing like the raw baseline`,
    note: `Moleculer: ${COMMON_DEVIATIONS}; ${KEPT_DEFAULTS}`,
    stop: () => broker.stop(),
  }
}

/** How Moleculer reaches a broker, and what that setting changes from its defaults. */
export interface MoleculerTransport {
  /** 'NATS', 'AMQP', 'MQTT' */
  name: string
  /**
   * a connection URL (its scheme names the transporter) or a type with options. Moleculer takes
   * both and hands AMQP's socketOptions to amqplib, though its typings list neither.
   */
  transporter: string | { type: string; options: Record<string, unknown> }
  /** settings that differ from the transporter's defaults */
  deviations: string
  /** runs once a node is connected, e.g. to set TCP_NODELAY on a socket the transporter opened */
  afterStart?(broker: ServiceBroker): void
}

/** Moleculer's NATS transporter on nats.js 2, at its defaults (nats.js sets TCP_NODELAY itself). */
export const moleculerNats = (url: string): MoleculerTransport => ({
  name: 'NATS',
  transporter: url,
  deviations: 'none (nats.js 2 sets TCP_NODELAY itself)',
})

/** Moleculer's AMQP transporter on amqplib 0.10: TCP_NODELAY on, as on the bridge and raw clients. */
export const moleculerAmqp = (url: string): MoleculerTransport => ({
  name: 'AMQP',
  transporter: { type: 'AMQP', options: { url, socketOptions: { noDelay: true } } },
  deviations:
    'TCP_NODELAY on (socketOptions.noDelay; amqplib leaves Nagle on); prefetch 1 (its default) kept',
})

/** Moleculer's MQTT transporter on mqtt.js 5 (MQTT 3.1.1, QoS 0 by default): TCP_NODELAY on. */
export const moleculerMqtt = (url: string): MoleculerTransport => ({
  name: 'MQTT',
  transporter: url,
  deviations:
    'TCP_NODELAY set on its socket after connect (mqtt.js leaves Nagle on); MQTT 3.1.1 at QoS 0 (its defaults) kept',
  afterStart(broker) {
    const client = transporterOf(broker) as { client?: { stream?: { setNoDelay?(on: boolean): void } } }
    client.client?.stream?.setNoDelay?.(true)
  },
})

interface CountingTransporter {
  receive(cmd: string, data: Buffer): unknown
}

const transporterOf = (broker: ServiceBroker) => broker.transit!.tx as unknown as CountingTransporter

/**
 * Makes sure calls and events really cross the broker: counts the packets the calc node's
 * transporter receives during some calls and as many emits from the caller node (which runs
 * neither service), then puts the transporter back as it was.
 */
async function checkOverTheWire(
  calcNode: ServiceBroker,
  scenario: MoleculerScenario,
  sample: { params: object; event: object },
): Promise<string> {
  const transporter = transporterOf(calcNode)
  const original = transporter.receive
  const packets = new Map<string, number>()
  transporter.receive = function (this: CountingTransporter, cmd, data) {
    packets.set(cmd, (packets.get(cmd) ?? 0) + 1)
    return original.call(this, cmd, data)
  }
  const count = 200
  try {
    const base = scenario.events.count
    for (let i = 0; i < count; i++) await scenario.call(sample.params)
    for (let i = 0; i < count; i++) await scenario.emit(sample.event)
    await scenario.events.until(base + count)
  } finally {
    transporter.receive = original
  }
  const requests = packets.get('REQ') ?? 0
  const events = packets.get('EVENT') ?? 0
  if (requests < count || events < count) {
    throw new Error(
      `Moleculer did not use its transporter: ${requests} REQ and ${events} EVENT packets for ${count} calls and ${count} emits`,
    )
  }
  return `checked once: ${count} calls and ${count} emits from node ${scenario.callerNodeID} reached node ${calcNode.nodeID} as ${requests} REQ and ${events} EVENT packets through the transporter`
}

/**
 * Two Moleculer nodes in this process, a caller and a `calc` node (which also holds the event
 * handler), connected through `transport`, so every call and event crosses the broker.
 */
export async function startMoleculerPair(
  transport: MoleculerTransport,
  work: CalcWork,
  sample: { params: object; event: object },
): Promise<MoleculerScenario> {
  const events = new DeliveryCounter('Moleculer events')
  // a namespace of its own, so no other Moleculer node on the broker joins this run
  const namespace = `conduit-bench-${process.pid}-${Date.now().toString(36)}`
  const node = (nodeID: string) =>
    new ServiceBroker({
      logger: false,
      namespace,
      nodeID,
      transporter: transport.transporter as BrokerOptions['transporter'],
    })
  const calcNode = node('bench-calc')
  const caller = node('bench-caller')
  const { calc, ledger } = services(work, events)
  calcNode.createService(calc)
  calcNode.createService(ledger)
  const brokers = [calcNode, caller]
  for (const broker of brokers) {
    await broker.start()
    transport.afterStart?.(broker)
  }
  await caller.waitForServices(['calc', 'ledger'], 10_000)
  const scenario: MoleculerScenario = {
    call: (params) => caller.call('calc.add', params),
    emit: (payload) => caller.emit(work.eventName, payload),
    events,
    callerNodeID: caller.nodeID,
    label:
      `Moleculer ${MOLECULER_VERSION} over its ${transport.name} transporter: a caller node and a calc node (calc.add ` +
      'action and one event handler, each zod-parsing like the raw baseline) as two brokers in this process',
    note: '',
    stop: async () => {
      for (const broker of [...brokers].reverse()) await broker.stop()
    },
  }
  let checked: string
  try {
    checked = await checkOverTheWire(calcNode, scenario, sample)
  } catch (error) {
    await scenario.stop()
    throw error
  }
  scenario.note =
    `Moleculer over ${transport.name}: ${COMMON_DEVIATIONS}; distinct nodeIDs and a namespace of its own ` +
    `(needed: two nodes in one process); transporter: ${transport.deviations}; ${KEPT_DEFAULTS}, ${KEPT_WIRE_DEFAULTS}; ${checked}`
  return scenario
}
