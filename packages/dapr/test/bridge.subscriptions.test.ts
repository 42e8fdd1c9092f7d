import { createService, defineEvent, defineService, handleSubscription } from '@conduit/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { deadLetterTopic, eventTopic } from '../src/index.js'
import { DaprWorld } from './support/DaprWorld.js'
import { jsonOf } from './support/FakeApp.js'

// Dapr-specific subscription behaviour, through the emulator: the one-time subscription read,
// the CloudEvents interop with plain Dapr apps, dead-letter topics and the status answers.

const POLL = { timeout: 10_000, interval: 20 }
const orderPlaced = defineEvent('shop.order.placed', z.object({ id: z.number() }))
const orderShipped = defineEvent('shop.order.shipped', z.object({ id: z.number() }))

const notifierV1 = defineService({ name: 'notifier', version: '1' })
const onPlaced = notifierV1.subscription('onPlaced', { event: orderPlaced })
const onShipped = notifierV1.subscription('onShipped', { event: orderShipped })
const auditV1 = defineService({ name: 'audit', version: '1' })
const auditPlaced = auditV1.subscription('onPlaced', {
  event: orderPlaced,
  delivery: 'durable',
  maxAttempts: 2,
})

let world: DaprWorld
beforeEach(async () => {
  world = await DaprWorld.create()
})
afterEach(async () => {
  await world.close()
})

function recorder(seen: { handler: string; id: number }[]) {
  return {
    notifier: createService(notifierV1, {
      subscriptions: [
        handleSubscription(onPlaced, ({ id }) => void seen.push({ handler: 'placed', id })),
        handleSubscription(onShipped, ({ id }) => void seen.push({ handler: 'shipped', id })),
      ],
    }),
    audit: createService(auditV1, {
      subscriptions: [
        handleSubscription(auditPlaced, ({ id }) => {
          seen.push({ handler: 'audit', id })
          if (id < 0) throw new Error('refused')
        }),
      ],
    }),
  }
}

describe('the one-time subscription read', () => {
  it('answers GET /dapr/subscribe once registrations settle: two subscriptions on two events are both read', async () => {
    const seen: { handler: string; id: number }[] = []
    const { bridge, sidecar } = await world.bridge()
    await world.run(recorder(seen).notifier, bridge)
    await expect.poll(() => sidecar.subscriptions.length, POLL).toBe(2)
    expect(sidecar.subscriptions.map((entry) => entry.topic).sort()).toEqual([
      eventTopic(world.topicPrefix, 'shop.order.placed'),
      eventTopic(world.topicPrefix, 'shop.order.shipped'),
    ])
    expect(sidecar.subscriptions[0]).toMatchObject({
      pubsubname: 'pubsub',
      route: expect.stringMatching(/^\/conduit\/event\//),
      metadata: { rawPayload: 'true' },
    })
    const { bridge: client } = await world.bridge()
    await client.emit(orderPlaced, { id: 1 })
    await client.emit(orderShipped, { id: 2 })
    await expect
      .poll(() => seen, POLL)
      .toEqual(
        expect.arrayContaining([
          { handler: 'placed', id: 1 },
          { handler: 'shipped', id: 2 },
        ]),
      )
  })

  it('refuses, at start(), a subscription to a topic the sidecar already read without', async () => {
    const seen: { handler: string; id: number }[] = []
    const { bridge, sidecar } = await world.bridge()
    await expect.poll(() => sidecar.subscriptionsRead, POLL).toBe(true)
    const error = await world.run(recorder(seen).notifier, bridge).catch((caught: unknown) => caught)
    expect(error).toMatchObject({ code: 'DAPR_SUBSCRIPTIONS_ALREADY_READ' })
    expect((error as Error).message).toContain('reads them only once')
  })

  it('lets a later subscription join a topic the sidecar did read (one Dapr delivery, fanned out in the process)', async () => {
    const seen: { handler: string; id: number }[] = []
    const services = recorder(seen)
    const { bridge, sidecar } = await world.bridge({ appId: 'orders-app' })
    await world.run(services.notifier, bridge)
    await expect.poll(() => sidecar.subscriptionsRead, POLL).toBe(true)
    await world.run(services.audit, bridge) // same event, another consumer group, same Dapr app
    const { bridge: client } = await world.bridge()
    await client.emit(orderPlaced, { id: 3 })
    await expect
      .poll(
        () =>
          seen
            .filter((entry) => entry.id === 3)
            .map((entry) => entry.handler)
            .sort(),
        POLL,
      )
      .toEqual(['audit', 'placed'])
  })
})

describe('CloudEvents interop with plain Dapr apps', () => {
  it('hands a plain JSON publish on the topic to the subscription of the event the topic names', async () => {
    const seen: { handler: string; id: number }[] = []
    const { bridge } = await world.bridge()
    await world.run(recorder(seen).notifier, bridge)
    const { sidecar: producer } = await world.plainApp('legacy-producer', [])
    const topic = eventTopic(world.topicPrefix, 'shop.order.placed')
    const response = await fetch(`http://127.0.0.1:${producer.daprHttpPort}/v1.0/publish/pubsub/${topic}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 42 }),
    })
    expect(response.status).toBe(204)
    await expect.poll(() => seen, POLL).toEqual([{ handler: 'placed', id: 42 }])
  })

  it('publishes Conduit events as CloudEvents 1.0 a plain subscriber can read', async () => {
    const topic = eventTopic(world.topicPrefix, 'shop.order.placed')
    const { app } = await world.plainApp('legacy-consumer', [
      { pubsubname: 'pubsub', topic, route: '/orders' },
    ])
    const { bridge } = await world.bridge()
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
    await bridge.emit(orderPlaced, { id: 5 }, { traceparent, tenantId: 'tenant-a' })
    await expect.poll(() => app.requestsTo('/orders').length, POLL).toBe(1)
    expect(jsonOf(app.requestsTo('/orders')[0])).toMatchObject({
      specversion: '1.0',
      type: 'shop.order.placed',
      source: 'conduit://client',
      datacontenttype: 'application/json',
      data: { id: 5 },
      conduittype: 'event',
      tenantid: 'tenant-a',
      traceparent: expect.stringContaining('4bf92f3577b34da6a3ce929d0e0e4736'),
      topic,
      pubsubname: 'pubsub',
    })
  })
})

describe('durable delivery and Dapr status answers', () => {
  it('retries in the process up to maxAttempts, then publishes to <prefix>dead-letter.<group> and answers DROP', async () => {
    const seen: { handler: string; id: number }[] = []
    const { bridge } = await world.bridge({ retryBackoff: { initialMs: 20, maxMs: 50 } })
    await world.run(recorder(seen).audit, bridge)
    const dead = deadLetterTopic(world.topicPrefix, 'audit.v1.onPlaced')
    const { app: inspector } = await world.plainApp('inspector', [
      { pubsubname: 'pubsub', topic: dead, route: '/dead' },
    ])
    const { bridge: client } = await world.bridge()
    await client.emit(orderPlaced, { id: -1 })
    await expect.poll(() => inspector.requestsTo('/dead').length, POLL).toBe(1)
    expect(jsonOf(inspector.requestsTo('/dead')[0])).toMatchObject({
      type: 'shop.order.placed',
      data: { id: -1 },
      conduitdeadlettergroup: 'audit.v1.onPlaced',
      conduitdeadletterreason: expect.stringContaining('failed 2 times: refused'),
    })
    expect(seen.filter((entry) => entry.id === -1)).toHaveLength(2)
  })

  it('answers SUCCESS, DROP (malformed, dead-lettered) and RETRY (no consumer here) on its event route', async () => {
    const seen: { handler: string; id: number }[] = []
    const { bridge } = await world.bridge()
    await world.run(recorder(seen).audit, bridge)
    const route = (eventName: string) =>
      `http://127.0.0.1:${bridge.appPort}/conduit/event/${eventTopic(world.topicPrefix, eventName)}`
    const deliver = async (eventName: string, body: string) =>
      (await (await fetch(route(eventName), { method: 'POST', body })).json()) as { status: string }
    const event = { specversion: '1.0', id: 'e1', source: 'x', type: 'shop.order.placed', data: { id: 9 } }
    expect(await deliver('shop.order.placed', JSON.stringify(event))).toEqual({ status: 'SUCCESS' })
    expect(await deliver('shop.order.placed', '{"specVersion":"1"}')).toEqual({ status: 'DROP' })
    expect(await deliver('shop.order.shipped', JSON.stringify(event))).toEqual({ status: 'RETRY' })
    expect(seen).toEqual([{ handler: 'audit', id: 9 }])
  })

  it('hands an event back with RETRY when the bridge stops while it waits for a local retry', async () => {
    const seen: { handler: string; id: number }[] = []
    const { bridge } = await world.bridge({ retryBackoff: { initialMs: 60_000, maxMs: 60_000 } })
    await world.run(recorder(seen).audit, bridge)
    const route = `http://127.0.0.1:${bridge.appPort}/conduit/event/${eventTopic(world.topicPrefix, 'shop.order.placed')}`
    const event = { specversion: '1.0', id: 'e2', source: 'x', type: 'shop.order.placed', data: { id: -5 } }
    const answer = fetch(route, { method: 'POST', body: JSON.stringify(event) }).then((response) =>
      response.json(),
    )
    await expect.poll(() => seen.length, POLL).toBe(1) // the handler failed once; its retry waits a minute
    await bridge.stop()
    expect(await answer).toEqual({ status: 'RETRY' })
  })

  it('receives bytes Dapr could not parse (rawPayload) and dead-letters them once, base64 in a CloudEvent', async () => {
    const seen: { handler: string; id: number }[] = []
    const { bridge } = await world.bridge()
    await world.run(recorder(seen).audit, bridge)
    const dead = deadLetterTopic(world.topicPrefix, 'audit.v1.onPlaced')
    const { app: inspector } = await world.plainApp('inspector', [
      { pubsubname: 'pubsub', topic: dead, route: '/dead' },
    ])
    const garbage = new Uint8Array([0xff, 0xfe, 0x00, 0x7b])
    await world.emulator.injectIntoBroker(
      'pubsub',
      eventTopic(world.topicPrefix, 'shop.order.placed'),
      garbage,
    )
    await expect.poll(() => inspector.requestsTo('/dead').length, POLL).toBe(1)
    expect(jsonOf(inspector.requestsTo('/dead')[0])).toMatchObject({
      datacontenttype: 'application/octet-stream',
      data_base64: Buffer.from(garbage).toString('base64'),
    })
    const { bridge: client } = await world.bridge()
    await client.emit(orderPlaced, { id: 4 })
    await expect.poll(() => seen, POLL).toEqual([{ handler: 'audit', id: 4 }])
    expect(world.logs.filter((entry) => entry.msg === 'dead-lettered malformed event')).toHaveLength(1)
  })
})
