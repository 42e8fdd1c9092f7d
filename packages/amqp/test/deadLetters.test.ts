import {
  createService,
  defineEvent,
  defineService,
  type Envelope,
  type EventBridgeOptions,
  handleCommand,
  handleSubscription,
  SPEC_VERSION,
} from '@conduit/core'
import { encodeEnvelope } from '@conduit/core/transport'
import type { GetMessage } from 'amqplib'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { z } from 'zod'
import { AmqpBridge, AmqpTopology, DEFAULT_AMQP_URL } from '../src/index.js'
import { deleteDeclaredTopology, publishRaw, uniquePrefix, withBrokerChannel } from '../src/testing.js'

const url = process.env.CONDUIT_AMQP_URL ?? DEFAULT_AMQP_URL

const parcelLost = defineEvent('deadletter.parcel.lost', z.object({ id: z.number().int() }))
const depotV1 = defineService({ name: 'dlDepot', version: '1' })
const refund = depotV1.subscription('refund', { event: parcelLost, delivery: 'durable', maxAttempts: 3 })
const notify = depotV1.subscription('notify', { event: parcelLost })
const track = depotV1.command('track', {
  input: z.object({ id: z.number() }),
  output: z.object({ ok: z.boolean() }),
})

const REFUND_GROUP = 'dlDepot.v1.refund'
const NOTIFY_GROUP = 'dlDepot.v1.notify'
const POLL = { timeout: 10_000, interval: 25 }

/** Every message in `queue`, read without consuming (unacked gets, handed back on close). */
async function peek(queue: string): Promise<GetMessage[]> {
  return withBrokerChannel(url, async (channel) => {
    const messages: GetMessage[] = []
    for (;;) {
      const message = await channel.get(queue, { noAck: false })
      if (message === false) return messages
      messages.push(message)
    }
  })
}

describe('dead letters', () => {
  const bridges: AmqpBridge[] = []
  let prefix = uniquePrefix('deadletters')

  afterEach(async () => {
    await Promise.allSettled(bridges.map((bridge) => bridge.stop()))
    await deleteDeclaredTopology(
      bridges.map((bridge) => bridge.declaredTopology),
      url,
    )
    bridges.length = 0
    prefix = uniquePrefix('deadletters')
  })

  async function depot(attempts: number[]): Promise<AmqpBridge> {
    const options: EventBridgeOptions = { retryBackoff: { initialMs: 20, maxMs: 40 } }
    const bridge = new AmqpBridge({ ...options, url, prefix })
    bridges.push(bridge)
    await bridge.start()
    const service = createService(depotV1, {
      commands: [handleCommand(track, () => ({ ok: true }))],
      subscriptions: [
        handleSubscription(refund, ({ id }, ctx) => {
          attempts.push(ctx.attempt)
          throw new Error(`refund ${id} refused`)
        }),
        handleSubscription(notify, () => undefined),
      ],
    })
    await (await service.getInstance(bridge)).start()
    return bridge
  }

  it('a durable event that fails maxAttempts times is readable with its reason, and stays readable', {
    timeout: 30_000,
  }, async () => {
    const attempts: number[] = []
    const bridge = await depot(attempts)
    await bridge.emit(parcelLost, { id: 7 })
    await vi.waitFor(() => expect(attempts).toEqual([1, 2, 3]), POLL)

    const topology = new AmqpTopology(prefix)
    await vi.waitFor(
      async () => expect(await peek(topology.deadLetterQueue(REFUND_GROUP))).toHaveLength(1),
      POLL,
    )
    const [raw] = await peek(topology.deadLetterQueue(REFUND_GROUP))
    expect(raw!.properties.headers).toMatchObject({
      'x-conduit-dead-letter-reason': 'failed 3 times: refund 7 refused',
      'x-conduit-attempt': 3,
      'x-conduit-original-routing-key': parcelLost.name,
    })
    // reading does not consume: a second read sees the same message
    for (let read = 0; read < 2; read++) {
      const letters = await bridge.readDeadLetters(REFUND_GROUP)
      expect(letters.map((letter) => letter.payload)).toEqual([{ id: 7 }])
    }
    // retry queues: one per distinct delay (20 ms, then 40 ms), nothing left in them
    expect([...bridge.declaredTopology.queues].filter((queue) => queue.includes('.retry.')).sort()).toEqual([
      topology.retryQueue(REFUND_GROUP, 20),
      topology.retryQueue(REFUND_GROUP, 40),
    ])
    expect(await bridge.readDeadLetters('dlDepot.v1.neverDeclared')).toEqual([])
  })

  it('malformed events go to the dead-letter queue of every group they reach, with the reason', {
    timeout: 30_000,
  }, async () => {
    const bridge = await depot([])
    const topology = new AmqpTopology(prefix)
    await publishRaw(
      topology.eventsExchange,
      parcelLost.name,
      Buffer.from('not json at all'),
      { persistent: true },
      url,
    )
    for (const group of [REFUND_GROUP, NOTIFY_GROUP]) {
      await vi.waitFor(async () => expect(await peek(topology.deadLetterQueue(group))).toHaveLength(1), POLL)
      const [raw] = await peek(topology.deadLetterQueue(group))
      expect(raw!.content.toString()).toBe('not json at all')
      expect(String(raw!.properties.headers?.['x-conduit-dead-letter-reason'])).toMatch(/not JSON/)
      // nothing to decode, so the engine shows no envelope for it
      expect(await bridge.readDeadLetters(group)).toEqual([])
    }
  })

  it('a malformed command goes to the command dead-letter queue with the reason; serving goes on', {
    timeout: 30_000,
  }, async () => {
    const bridge = await depot([])
    const topology = new AmqpTopology(prefix)
    const queue = topology.commandQueue({ service: 'dlDepot', version: '1', command: 'track' })
    await publishRaw('', queue, Buffer.from('{"id":1}'), {}, url)
    await vi.waitFor(async () => expect(await peek(topology.commandDeadLetterQueue)).toHaveLength(1), POLL)
    const [raw] = await peek(topology.commandDeadLetterQueue)
    expect(raw!.content.toString()).toBe('{"id":1}')
    expect(raw!.properties.headers?.['x-conduit-dead-letter-reason']).toMatch(/Malformed message/)
    expect(raw!.properties.headers?.['x-conduit-original-routing-key']).toBe(queue)
    await expect(bridge.invoke(track, { id: 1 })).resolves.toEqual({ ok: true })
  })

  it('a command whose reply-to names another queue is refused: nothing is sent there, it is dead-lettered with the reason', {
    timeout: 30_000,
  }, async () => {
    const bridge = await depot([])
    const topology = new AmqpTopology(prefix)
    const queue = topology.commandQueue({ service: 'dlDepot', version: '1', command: 'track' })
    const victim = `${prefix}.victim`
    await withBrokerChannel(url, (channel) => channel.assertQueue(victim, { durable: false }))
    const command: Envelope = {
      id: 'foreign-reply-1',
      type: 'command',
      specVersion: SPEC_VERSION,
      time: Date.now(),
      correlationId: 'foreign-reply-1',
      sender: { instanceId: 'a plain amqplib client' },
      receiver: { service: 'dlDepot', version: '1', command: 'track' },
      deadline: Date.now() + 10_000,
      contentType: 'application/json',
      payload: { id: 1 },
    }
    try {
      await publishRaw('', queue, encodeEnvelope(command), { replyTo: victim, messageId: command.id }, url)
      await vi.waitFor(async () => expect(await peek(topology.commandDeadLetterQueue)).toHaveLength(1), POLL)
      const [raw] = await peek(topology.commandDeadLetterQueue)
      expect(raw!.properties.messageId).toBe(command.id)
      expect(raw!.properties.headers?.['x-conduit-dead-letter-reason']).toMatch(/not a direct reply-to name/)
      await expect(bridge.invoke(track, { id: 2 })).resolves.toEqual({ ok: true })
      expect(await peek(victim)).toEqual([])
    } finally {
      await withBrokerChannel(url, (channel) => channel.deleteQueue(victim))
    }
  })
})
