import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DaprEmulator, type EmulatedSidecar } from '../src/testing/index.js'
import { type FakeAnswer, FakeApp, jsonOf, type ReceivedRequest } from './support/FakeApp.js'

// The emulator's pub/sub against Dapr's pub/sub API reference: publish wraps data in a
// CloudEvent unless it is one, subscriptions come from GET /dapr/subscribe (read once), each
// message goes to one instance per app id, and the app's answer follows the status contract.

const POLL = { timeout: 10_000, interval: 20 }
let emulator: DaprEmulator
const apps: FakeApp[] = []

/** A plain app subscribing to `topics`, answering deliveries with `deliver`. */
async function subscriber(
  appId: string,
  topics: { topic: string; deadLetterTopic?: string; metadata?: Record<string, string> }[],
  deliver: (request: ReceivedRequest) => FakeAnswer = () => ({ body: { status: 'SUCCESS' } }),
): Promise<{ app: FakeApp; sidecar: EmulatedSidecar }> {
  const app = await FakeApp.start((request) =>
    request.url === '/dapr/subscribe'
      ? { body: topics.map((entry) => ({ pubsubname: 'pubsub', route: `/on/${entry.topic}`, ...entry })) }
      : deliver(request),
  )
  apps.push(app)
  const sidecar = await emulator.addSidecar({ appId, appPort: app.port })
  await expect.poll(() => sidecar.subscriptions.length, POLL).toBe(topics.length)
  return { app, sidecar }
}

async function publish(
  sidecar: EmulatedSidecar,
  topic: string,
  body: string | Uint8Array,
  headers: Record<string, string> = {},
) {
  return fetch(`http://127.0.0.1:${sidecar.daprHttpPort}/v1.0/publish/pubsub/${topic}`, {
    method: 'POST',
    headers,
    body,
  })
}

beforeEach(async () => {
  emulator = await DaprEmulator.start({ redeliveryDelayMs: 20 })
})

afterEach(async () => {
  await emulator.close()
  await Promise.all(apps.splice(0).map((app) => app.close()))
})

describe('publish: /v1.0/publish/<pubsub>/<topic>', () => {
  it('wraps JSON data in a CloudEvent with the documented attributes and answers 204', async () => {
    const { app } = await subscriber('orders', [{ topic: 'newOrder' }])
    const publisher = await emulator.addSidecar({ appId: 'checkout' })
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
    const response = await publish(publisher, 'newOrder', '{"orderId":7}', {
      'content-type': 'application/json',
      traceparent,
    })
    expect(response.status).toBe(204)
    await expect.poll(() => app.requestsTo('/on/newOrder').length, POLL).toBe(1)
    const [delivery] = app.requestsTo('/on/newOrder')
    expect(delivery?.method).toBe('POST')
    expect(delivery?.headers['content-type']).toBe('application/cloudevents+json')
    expect(jsonOf(delivery)).toMatchObject({
      specversion: '1.0',
      id: expect.any(String),
      source: 'checkout',
      type: 'com.dapr.event.sent',
      datacontenttype: 'application/json',
      data: { orderId: 7 },
      topic: 'newOrder',
      pubsubname: 'pubsub',
      traceparent,
    })
  })

  it('assumes text/plain without a content type, and keeps a published CloudEvent but stamps topic and tracing', async () => {
    const { app } = await subscriber('orders', [{ topic: 'plain' }, { topic: 'ce' }])
    const publisher = await emulator.addSidecar({ appId: 'checkout' })
    await publish(publisher, 'plain', new TextEncoder().encode('hello')) // bytes: fetch sets no content type
    const own = {
      specversion: '1.0',
      id: 'e-1',
      source: 'me',
      type: 'my.type',
      data: { a: 1 },
      traceparent: 'mine',
    }
    await publish(publisher, 'ce', JSON.stringify(own), { 'content-type': 'application/cloudevents+json' })
    await expect.poll(() => app.received.length, POLL).toBe(3) // subscribe + 2 deliveries
    expect(jsonOf(app.requestsTo('/on/plain')[0])).toMatchObject({
      datacontenttype: 'text/plain',
      data: 'hello',
    })
    expect(jsonOf(app.requestsTo('/on/ce')[0])).toMatchObject({
      id: 'e-1',
      source: 'me',
      type: 'my.type',
      data: { a: 1 },
      topic: 'ce',
      pubsubname: 'pubsub',
      traceparent: '', // the sidecar's tracing wins; no traceparent header was sent
    })
  })

  it('answers 400 for an unknown pub/sub component and for a CloudEvent body that is not JSON', async () => {
    const publisher = await emulator.addSidecar({ appId: 'checkout' })
    const unknown = await fetch(`http://127.0.0.1:${publisher.daprHttpPort}/v1.0/publish/nope/t`, {
      method: 'POST',
      body: 'x',
    })
    expect(unknown.status).toBe(400)
    expect(await unknown.json()).toMatchObject({ errorCode: 'ERR_PUBSUB_NOT_FOUND' })
    const broken = await publish(publisher, 't', '{not json', {
      'content-type': 'application/cloudevents+json',
    })
    expect(broken.status).toBe(400)
  })
})

describe('subscriptions and delivery', () => {
  it('reads GET /dapr/subscribe once and lists the subscriptions in the metadata API', async () => {
    const { app, sidecar } = await subscriber('orders', [{ topic: 'a' }, { topic: 'b' }])
    expect(app.requestsTo('/dapr/subscribe')).toHaveLength(1)
    const metadata = (await (
      await fetch(`http://127.0.0.1:${sidecar.daprHttpPort}/v1.0/metadata`)
    ).json()) as {
      subscriptions: { topic: string; type: string }[]
    }
    expect(metadata.subscriptions.map((entry) => [entry.topic, entry.type])).toEqual([
      ['a', 'PROGRAMMATIC'],
      ['b', 'PROGRAMMATIC'],
    ])
  })

  it('delivers each message once per app id: instances of one app share, another app gets its own copy', async () => {
    const first = await subscriber('mailer', [{ topic: 'signup' }])
    const second = await subscriber('mailer', [{ topic: 'signup' }])
    const other = await subscriber('audit', [{ topic: 'signup' }])
    const publisher = await emulator.addSidecar({ appId: 'users' })
    for (let i = 0; i < 20; i++)
      await publish(publisher, 'signup', JSON.stringify({ i }), { 'content-type': 'application/json' })
    const ids = (app: FakeApp) =>
      app.requestsTo('/on/signup').map((request) => jsonOf(request).data.i as number)
    await expect.poll(() => ids(first.app).length + ids(second.app).length, POLL).toBe(20)
    await expect.poll(() => ids(other.app).length, POLL).toBe(20)
    expect(new Set([...ids(first.app), ...ids(second.app)]).size).toBe(20)
    expect(ids(first.app).length).toBeGreaterThan(0)
    expect(ids(second.app).length).toBeGreaterThan(0)
  })

  it('starts a new app id at the beginning of the retained stream (JetStream deliverPolicy all)', async () => {
    const publisher = await emulator.addSidecar({ appId: 'users' })
    await publish(publisher, 'early', '{"n":1}', { 'content-type': 'application/json' })
    const { app } = await subscriber('late', [{ topic: 'early' }])
    await expect.poll(() => app.requestsTo('/on/early').length, POLL).toBe(1)
  })

  it.each([
    ['RETRY in a 200 body', 'redelivered', { body: { status: 'RETRY' } }],
    ['an error status', 'redelivered', { status: 500, body: 'boom' }],
    ['DROP in a 200 body', 'dropped', { body: { status: 'DROP' } }],
    ['a 404', 'dropped', { status: 404 }],
    ['an empty 200', 'dropped', { body: '' }],
  ] as const)('on %s the message is %s', async (_, expected, answer) => {
    let calls = 0
    const { app } = await subscriber('flaky', [{ topic: 'jobs' }], () =>
      ++calls === 1 ? answer : { body: { status: 'SUCCESS' } },
    )
    const publisher = await emulator.addSidecar({ appId: 'producer' })
    await publish(publisher, 'jobs', '{}', { 'content-type': 'application/json' })
    await publish(publisher, 'jobs', '{"last":true}', { 'content-type': 'application/json' })
    const expectedDeliveries = expected === 'redelivered' ? 3 : 2
    await expect.poll(() => app.requestsTo('/on/jobs').length, POLL).toBe(expectedDeliveries)
    await publish(publisher, 'jobs', '{"marker":true}', { 'content-type': 'application/json' })
    await expect.poll(() => app.requestsTo('/on/jobs').length, POLL).toBe(expectedDeliveries + 1)
  })

  it('sends a failed message to the deadLetterTopic; bytes that are not JSON never reach the app', async () => {
    const { app } = await subscriber('picky', [{ topic: 'in', deadLetterTopic: 'poison' }], (request) =>
      jsonOf(request).data?.bad ? { status: 500 } : { body: { status: 'SUCCESS' } },
    )
    const { app: inspector } = await subscriber('inspector', [{ topic: 'poison' }])
    const publisher = await emulator.addSidecar({ appId: 'producer' })
    await publish(publisher, 'in', '{"bad":true}', { 'content-type': 'application/json' })
    await emulator.injectIntoBroker('pubsub', 'in', new Uint8Array([0xff, 0x00]))
    await publish(publisher, 'in', '{"marker":true}', { 'content-type': 'application/json' })
    await expect
      .poll(() => inspector.requestsTo('/on/poison').map((request) => jsonOf(request).data), POLL)
      .toEqual([{ bad: true }])
    await expect
      .poll(() => app.requestsTo('/on/in').map((request) => jsonOf(request).data), POLL)
      .toContainEqual({
        marker: true,
      })
    expect(app.requestsTo('/on/in')).toHaveLength(2) // the bytes went to the dead-letter topic, not to the app
  })

  it('with rawPayload, hands each message over as it is on the broker: base64 in a new CloudEvent (FromRawPayload)', async () => {
    const { app } = await subscriber('raw-reader', [{ topic: 'raw', metadata: { rawPayload: 'true' } }])
    const publisher = await emulator.addSidecar({ appId: 'producer' })
    await emulator.injectIntoBroker('pubsub', 'raw', new Uint8Array([0xff, 0x00]))
    await publish(publisher, 'raw', '{"orderId":8}', { 'content-type': 'application/json' })
    await expect.poll(() => app.requestsTo('/on/raw').length, POLL).toBe(2)
    const [garbage, published] = app.requestsTo('/on/raw').map(jsonOf)
    expect(garbage).toEqual({
      id: expect.any(String),
      specversion: '1.0',
      datacontenttype: 'application/octet-stream',
      source: 'Dapr',
      type: 'com.dapr.event.sent',
      topic: 'raw',
      pubsubname: 'pubsub',
      data_base64: Buffer.from([0xff, 0x00]).toString('base64'),
    })
    // what Dapr published is the CloudEvent it made, itself base64 inside the wrapper
    expect(JSON.parse(Buffer.from(published.data_base64, 'base64').toString('utf8'))).toMatchObject({
      type: 'com.dapr.event.sent',
      data: { orderId: 8 },
    })
  })
})
