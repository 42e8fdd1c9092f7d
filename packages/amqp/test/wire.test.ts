import {
  createService,
  defineEvent,
  defineService,
  type Envelope,
  handleSubscription,
  SPEC_VERSION,
} from '@conduit/core'
import { decodeEnvelope, encodeEnvelope } from '@conduit/core/transport'
import type { ConsumeMessage } from 'amqplib'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { z } from 'zod'
import { AmqpBridge, AmqpTopology, DEFAULT_AMQP_URL } from '../src/index.js'
import { deleteDeclaredTopology, uniquePrefix, withBrokerChannel } from '../src/testing.js'

// What the bridge puts on the wire, seen by plain amqplib: the topology docs/bridges/amqp.md
// documents, and what a non-Conduit client must do to talk to Conduit services.

const url = process.env.CONDUIT_AMQP_URL ?? DEFAULT_AMQP_URL

const stockV1 = defineService({ name: 'wireStock', version: '1' })
const reserve = stockV1.command('reserve', {
  input: z.object({ sku: z.string() }),
  output: z.object({ reserved: z.boolean() }),
})
const stockMoved = defineEvent('wire.stock.moved', z.object({ sku: z.string() }))
const auditV1 = defineService({ name: 'wireAudit', version: '1' })
const audit = auditV1.subscription('audit', { event: stockMoved, delivery: 'durable', everyInstance: true })

describe('the wire', () => {
  const bridges: AmqpBridge[] = []
  const prefix = uniquePrefix('wire')
  const topology = new AmqpTopology(prefix)
  const queue = topology.commandQueue({ service: 'wireStock', version: '1', command: 'reserve' })
  const extra = new Set<string>()

  afterEach(async () => {
    await Promise.allSettled(bridges.map((bridge) => bridge.stop()))
    await deleteDeclaredTopology(
      [...bridges.map((bridge) => bridge.declaredTopology), { exchanges: new Set(), queues: extra }],
      url,
    )
    bridges.length = 0
  })

  async function started(): Promise<AmqpBridge> {
    const bridge = new AmqpBridge({ url, prefix })
    bridges.push(bridge)
    await bridge.start()
    return bridge
  }

  it('a command goes to its queue with its deadline as TTL and a direct reply-to; any client can answer', {
    timeout: 20_000,
  }, async () => {
    const client = await started()
    await withBrokerChannel(url, async (channel) => {
      await channel.assertQueue(queue, { durable: false, autoDelete: true })
      let received: ConsumeMessage | undefined
      await channel.consume(queue, (message) => {
        received = message ?? undefined
      })
      const call = client.invoke(reserve, { sku: 'A-1' }, { timeout: 3_000 })
      await vi.waitFor(() => expect(received).toBeDefined())
      const { properties, content } = received!
      expect(Number(properties.expiration)).toBeGreaterThan(2_000)
      expect(Number(properties.expiration)).toBeLessThanOrEqual(3_000)
      expect(properties.replyTo).toMatch(/^amq\.rabbitmq\.reply-to\./)
      const command = decodeEnvelope(content)
      expect(command).toMatchObject({
        type: 'command',
        payload: { sku: 'A-1' },
        // the AMQP message id is the command's own id (unique per call)
        id: properties.messageId,
      })
      const response: Envelope = {
        id: 'raw-reply-1',
        type: 'response',
        specVersion: SPEC_VERSION,
        time: Date.now(),
        correlationId: command.correlationId,
        inReplyTo: command.id,
        sender: { instanceId: 'a plain amqplib client' },
        contentType: 'application/json',
        payload: { reserved: true },
      }
      channel.publish('', properties.replyTo, Buffer.from(encodeEnvelope(response)), {
        correlationId: properties.messageId,
      })
      channel.ack(received!)
      await expect(call).resolves.toEqual({ reserved: true })
    })
  })

  it('a command that expires in its queue is dropped by RabbitMQ, never delivered', {
    timeout: 20_000,
  }, async () => {
    const client = await started()
    // a queue with no consumer: the command waits there until its TTL runs out
    await withBrokerChannel(url, (channel) =>
      channel.assertQueue(queue, { durable: false, autoDelete: false }),
    )
    extra.add(queue)
    await expect(client.invoke(reserve, { sku: 'B-2' }, { timeout: 150 })).rejects.toMatchObject({
      status: 504,
    })
    await expect
      .poll(() => withBrokerChannel(url, async (channel) => (await channel.checkQueue(queue)).messageCount), {
        timeout: 5_000,
      })
      .toBe(0)
  })

  it('events are persistent messages on the topic exchange, routed by event name', {
    timeout: 20_000,
  }, async () => {
    const client = await started()
    const tap = `${prefix}.tap`
    extra.add(tap)
    await withBrokerChannel(url, async (channel) => {
      await channel.assertQueue(tap, { durable: false })
      await channel.bindQueue(tap, topology.eventsExchange, 'wire.#')
    })
    await client.emit(stockMoved, { sku: 'C-3' })
    const message = await withBrokerChannel(url, (channel) => channel.get(tap, { noAck: true }))
    expect(message).not.toBe(false)
    if (message === false) return
    expect(message.fields).toMatchObject({
      exchange: topology.eventsExchange,
      routingKey: 'wire.stock.moved',
    })
    expect(message.properties).toMatchObject({
      deliveryMode: 2,
      contentType: 'application/json',
      type: 'event',
    })
  })

  it("a durable everyInstance queue is the instance's own and is deleted when the instance stops", {
    timeout: 20_000,
  }, async () => {
    const bridge = await started()
    const instance = await createService(auditV1, {
      subscriptions: [handleSubscription(audit, () => undefined)],
    }).getInstance(bridge)
    await instance.start()
    const [own] = [...bridge.declaredTopology.queues].filter((name) =>
      name.startsWith(`${prefix}.evt.wireAudit.v1.audit.`),
    )
    expect(own).toBeDefined()
    const exists = (name: string) =>
      withBrokerChannel(url, (channel) => channel.checkQueue(name)).then(
        () => true,
        () => false,
      )
    expect(await exists(own!)).toBe(true)
    await instance.stop()
    expect(await exists(own!)).toBe(false)
  })
})
