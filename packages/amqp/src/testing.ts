import { randomUUID } from 'node:crypto'
import { type Channel, connect, type Options } from 'amqplib'
import type { DeclaredTopology } from './AmqpSession.js'
import { DEFAULT_AMQP_URL } from './options.js'

// Test helpers for bridges over RabbitMQ (the `@conduit/amqp/testing` entry, never the runtime one).

/** A prefix no other test uses, so each test has its own exchanges and queues. */
export function uniquePrefix(label = 'test'): string {
  return `${label}.${randomUUID().slice(0, 8)}`
}

/** Runs `work` on a channel of a short-lived connection of its own. */
export async function withBrokerChannel<T>(url: string, work: (channel: Channel) => Promise<T>): Promise<T> {
  const model = await connect(url)
  model.on('error', () => undefined)
  try {
    const channel = await model.createConfirmChannel()
    channel.on('error', () => undefined)
    const result = await work(channel)
    await channel.waitForConfirms()
    return result
  } finally {
    await model.close().catch(() => undefined)
  }
}

/** Publishes raw bytes (anything, valid or not), confirmed, bypassing every bridge. */
export function publishRaw(
  exchange: string,
  routingKey: string,
  bytes: Uint8Array,
  options: Options.Publish = {},
  url = DEFAULT_AMQP_URL,
): Promise<void> {
  return withBrokerChannel(url, async (channel) => {
    channel.publish(exchange, routingKey, Buffer.from(bytes), options)
  })
}

/** Deletes every queue and exchange the given bridges declared (missing ones are fine). */
export async function deleteDeclaredTopology(
  declared: readonly DeclaredTopology[],
  url = DEFAULT_AMQP_URL,
): Promise<void> {
  const queues = new Set(declared.flatMap((topology) => [...topology.queues]))
  const exchanges = new Set(declared.flatMap((topology) => [...topology.exchanges]))
  if (queues.size === 0 && exchanges.size === 0) return
  await withBrokerChannel(url, async (channel) => {
    for (const queue of queues) await channel.deleteQueue(queue)
    for (const exchange of exchanges) await channel.deleteExchange(exchange)
  })
}

/** Plain amqplib, for raw baselines beside the bridge (bench/suites/amqp.ts). */
export {
  type Channel,
  type ChannelModel,
  type ConfirmChannel,
  type ConsumeMessage,
  connect as connectAmqp,
} from 'amqplib'
