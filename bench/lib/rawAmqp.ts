import { type ConsumeMessage, connectAmqp } from '../../packages/amqp/src/testing.js'
import { deposit, depositInput, depositMade, depositOutput, SAMPLE } from './deposit.js'
import type { DeliveryCounter } from './measure.js'

// The amqp suite's raw baselines: plain amqplib doing the suite's work without the runtime, every
// connection with TCP_NODELAY like the bridge's. Both sides JSON-encode and zod-parse.

const DIRECT_REPLY_TO = 'amq.rabbitmq.reply-to'
const PREFETCH = 100

/** The client side of both RPC baselines: direct reply-to, replies matched by correlation id. */
async function startRpcClient(url: string, queue: string) {
  const connection = await connectAmqp(url, { noDelay: true })
  const client = await connection.createChannel()
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
  return { call, close: () => connection.close() }
}

/**
 * Plain amqplib RPC: a server consuming one queue, a client on direct reply-to. `acks: true` acks
 * each request after the reply (prefetch 100), like the bridge; `acks: false` consumes with
 * noAck, the at-most-once pattern issue 17 names.
 */
export async function startRawRpc(url: string, queue: string, { acks }: { acks: boolean }) {
  const serverConnection = await connectAmqp(url, { noDelay: true })
  const server = await serverConnection.createChannel()
  await server.assertQueue(queue, { durable: false, autoDelete: true })
  if (acks) await server.prefetch(PREFETCH)
  await server.consume(
    queue,
    async (message) => {
      if (!message) return
      const output = depositOutput.parse(
        await deposit(depositInput.parse(JSON.parse(message.content.toString()))),
      )
      server.publish('', message.properties.replyTo, Buffer.from(JSON.stringify(output)), {
        correlationId: message.properties.correlationId,
      })
      if (acks) server.ack(message)
    },
    { noAck: !acks },
  )
  const client = await startRpcClient(url, queue)
  const close = async () => {
    await client.close()
    await serverConnection.close()
  }
  return { call: client.call, close }
}

/** Plain amqplib durable pub/sub: confirmed persistent publishes, a durable queue acked after parsing. */
export async function startRawDurable(
  url: string,
  exchange: string,
  queue: string,
  counter: DeliveryCounter,
) {
  const consumerConnection = await connectAmqp(url, { noDelay: true })
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
  const publisherConnection = await connectAmqp(url, { noDelay: true })
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

/**
 * Plain amqplib at-most-once pub/sub as issue 17 names it: a fanout exchange, a transient
 * publish without confirms, an exclusive queue consumed with noAck, JSON + zod parse.
 */
export async function startRawFanout(url: string, exchange: string, counter: DeliveryCounter) {
  const consumerConnection = await connectAmqp(url, { noDelay: true })
  const consumer = await consumerConnection.createChannel()
  await consumer.assertExchange(exchange, 'fanout', { durable: false, autoDelete: true })
  const { queue } = await consumer.assertQueue('', { exclusive: true, durable: false, autoDelete: true })
  await consumer.bindQueue(queue, exchange, '')
  await consumer.consume(
    queue,
    (message) => {
      if (!message) return
      depositMade.schema.parse(JSON.parse(message.content.toString()))
      counter.hit()
    },
    { noAck: true },
  )
  const publisherConnection = await connectAmqp(url, { noDelay: true })
  const publisher = await publisherConnection.createChannel()
  const emit = async () => publisher.publish(exchange, '', Buffer.from(JSON.stringify(SAMPLE)))
  const close = async () => {
    await publisherConnection.close()
    await consumerConnection.close() // the exclusive queue goes with it, the exchange after it
  }
  return { emit, close }
}
