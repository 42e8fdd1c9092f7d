import {
  AckPolicy,
  connect,
  jetstream,
  NatsAdmin,
  type NatsConnection,
  RetentionPolicy,
} from '../../packages/nats/src/testing.js'
import { deposit, depositInput, depositMade, depositOutput, SAMPLE } from './deposit.js'
import type { DeliveryCounter } from './measure.js'

// The nats suite's raw baselines: plain nats.js (v3) doing the suite's work without the runtime.
// Both sides validate with the same zod schemas and JSON-encode.

const decode = (data: Uint8Array) => JSON.parse(new TextDecoder().decode(data)) as unknown

/** The server side of both RPC baselines: a queue subscription that answers through `reply`. */
async function startRawResponder(
  servers: string,
  subject: string,
  answer: (connection: NatsConnection, data: Uint8Array, reply: string) => Promise<void>,
) {
  const server = await connect({ servers })
  server.subscribe(subject, {
    queue: 'raw',
    callback: (_error, msg) => {
      if (msg.reply) void answer(server, msg.data, msg.reply)
    },
  })
  await server.flush()
  return server
}

/**
 * Plain nats.js request/reply, the fastest way: the server answers on a queue subscription; the
 * client publishes with one shared inbox as reply subject and matches replies by an id it puts
 * in the message (nc.request() per call is several times slower).
 */
export async function startRawRpc(servers: string, subject: string) {
  const server = await startRawResponder(servers, subject, async (connection, data, reply) => {
    const { id, input } = decode(data) as { id: number; input: unknown }
    const output = depositOutput.parse(await deposit(depositInput.parse(input)))
    connection.publish(reply, JSON.stringify({ id, output }))
  })
  const client = await connect({ servers })
  const inbox = `${subject}.inbox`
  const waiting = new Map<number, (value: unknown) => void>()
  client.subscribe(inbox, {
    callback: (_error, msg) => {
      const { id, output } = decode(msg.data) as { id: number; output: unknown }
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
 * Plain nats.js request/reply as the issue names it: publish with a reply subject of its own
 * (`<inbox>.<id>`) into one wildcard inbox subscription (`<inbox>.*`), the way nats.js's own
 * request multiplexer works; the payload is the bare input and output, the id is in the subject.
 */
export async function startRawWildcardRpc(servers: string, subject: string) {
  const server = await startRawResponder(servers, subject, async (connection, data, reply) => {
    const output = depositOutput.parse(await deposit(depositInput.parse(decode(data))))
    connection.publish(reply, JSON.stringify(output))
  })
  const client = await connect({ servers })
  const inbox = `${subject}.wildcard-inbox`
  const waiting = new Map<string, (value: unknown) => void>()
  client.subscribe(`${inbox}.*`, {
    callback: (_error, msg) => {
      const id = msg.subject.slice(inbox.length + 1)
      waiting.get(id)?.(depositOutput.parse(decode(msg.data)))
      waiting.delete(id)
    },
  })
  await client.flush()
  let next = 0
  const call = () =>
    new Promise((resolve) => {
      const id = String(next++)
      waiting.set(id, resolve)
      client.publish(subject, JSON.stringify(SAMPLE), { reply: `${inbox}.${id}` })
    })
  const close = async () => {
    await client.drain()
    await server.drain()
  }
  return { call, close }
}

/** Plain nats.js pub/sub: a queue subscription that parses and validates each event. */
export async function startRawAtMostOnce(servers: string, subject: string, counter: DeliveryCounter) {
  const subscriber = await connect({ servers })
  subscriber.subscribe(subject, {
    queue: 'raw',
    callback: (_error, msg) => {
      depositMade.schema.parse(decode(msg.data))
      counter.hit()
    },
  })
  await subscriber.flush()
  const publisher = await connect({ servers })
  const emit = async () => publisher.publish(subject, JSON.stringify(SAMPLE))
  const close = async () => {
    await publisher.drain()
    await subscriber.drain()
  }
  return { emit, close }
}

/** Plain nats.js JetStream: acked publishes into an interest stream, a durable pull consumer acking each. */
export async function startRawDurable(servers: string, prefix: string, counter: DeliveryCounter) {
  const subject = `${prefix}.raw.durable`
  const stream = `${prefix}_raw_durable`
  const admin = await NatsAdmin.connect(servers)
  await admin.jsm.streams.add({ name: stream, subjects: [subject], retention: RetentionPolicy.Interest })
  await admin.jsm.consumers.add(stream, { durable_name: 'raw', ack_policy: AckPolicy.Explicit })
  const consumerConnection = await connect({ servers })
  const consumer = await jetstream(consumerConnection).consumers.get(stream, 'raw')
  const messages = await consumer.consume({
    max_messages: 512,
    callback: (msg) => {
      depositMade.schema.parse(decode(msg.data))
      msg.ack()
      counter.hit()
    },
  })
  // the fastest raw setting: no per-request Error objects (NatsBridge sets it too)
  const publisher: NatsConnection = await connect({ servers, noAsyncTraces: true })
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
