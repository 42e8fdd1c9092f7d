import { Agent } from 'node:http'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { DaprEmulator, verdictOf } from '../src/testing/index.js'
import { type DeliveryTarget, deliverToApp, type JsMsg } from '../src/testing/pubsub.js'
import { FakeApp, jsonOf } from './support/FakeApp.js'

// The emulator is a test fixture: these tests hold it to the request/response shapes of Dapr's
// HTTP API reference (service invocation, state, secrets, health, metadata). Pub/sub is in
// emulator.pubsub.test.ts.

let emulator: DaprEmulator
const apps: FakeApp[] = []

async function app(answer: Parameters<typeof FakeApp.start>[0] = () => ({ body: {} })) {
  const started = await FakeApp.start(answer)
  apps.push(started)
  return started
}

async function api(port: number, path: string, init: RequestInit = {}) {
  return fetch(`http://127.0.0.1:${port}${path}`, init)
}

beforeEach(async () => {
  emulator = await DaprEmulator.start({
    stateStores: ['statestore'],
    secretStores: { localsecrets: { 'db-password': 's3cret' } },
  })
})

afterEach(async () => {
  await emulator.close()
  await Promise.all(apps.splice(0).map((started) => started.close()))
})

describe('service invocation: /v1.0/invoke/<appId>/method/<method>', () => {
  it('proxies verb, nested path, query, headers and body to the app, and returns its status, headers and body', async () => {
    const target = await app(() => ({ status: 201, body: { ok: true }, headers: { 'x-answer': 'yes' } }))
    await emulator.addSidecar({ appId: 'math', appPort: target.port })
    const caller = await emulator.addSidecar({ appId: 'caller' })
    const response = await api(caller.daprHttpPort, '/v1.0/invoke/math/method/api/v1/add?x=1', {
      method: 'PUT',
      headers: { 'content-type': 'application/json', 'x-custom': 'kept' },
      body: JSON.stringify({ arg1: 10 }),
    })
    expect(response.status).toBe(201)
    expect(response.headers.get('x-answer')).toBe('yes')
    expect(await response.json()).toEqual({ ok: true })
    const [received] = target.requestsTo('/api/v1/add')
    expect(received?.method).toBe('PUT')
    expect(received?.url).toBe('/api/v1/add?x=1')
    expect(received?.headers['x-custom']).toBe('kept')
    expect(received?.headers['dapr-caller-app-id']).toBe('caller')
    expect(jsonOf(received)).toEqual({ arg1: 10 })
  })

  it('spreads calls over the instances of an app id and skips one whose app is gone', async () => {
    const first = await app()
    const second = await app()
    await emulator.addSidecar({ appId: 'svc', appPort: first.port })
    await emulator.addSidecar({ appId: 'svc', appPort: second.port })
    const caller = await emulator.addSidecar({ appId: 'caller' })
    for (let i = 0; i < 6; i++)
      expect((await api(caller.daprHttpPort, '/v1.0/invoke/svc/method/x', { method: 'POST' })).status).toBe(
        200,
      )
    expect(first.requestsTo('/x').length).toBe(3)
    expect(second.requestsTo('/x').length).toBe(3)
    await second.close()
    for (let i = 0; i < 4; i++)
      expect((await api(caller.daprHttpPort, '/v1.0/invoke/svc/method/x', { method: 'POST' })).status).toBe(
        200,
      )
    expect(first.requestsTo('/x').length).toBe(7)
  })

  it('answers 500 ERR_DIRECT_INVOKE for an app id no sidecar serves', async () => {
    const caller = await emulator.addSidecar({ appId: 'caller' })
    const response = await api(caller.daprHttpPort, '/v1.0/invoke/nobody/method/x', { method: 'POST' })
    expect(response.status).toBe(500)
    expect(await response.json()).toMatchObject({
      errorCode: 'ERR_DIRECT_INVOKE',
      message: expect.stringContaining('nobody'),
    })
  })

  it('rejects a body over the limit with 413', async () => {
    const small = await DaprEmulator.start({ maxBodyBytes: 1024 })
    try {
      const caller = await small.addSidecar({ appId: 'caller' })
      const response = await api(caller.daprHttpPort, '/v1.0/invoke/x/method/y', {
        method: 'POST',
        body: 'x'.repeat(2048),
      })
      expect(response.status).toBe(413)
    } finally {
      await small.close()
    }
  })
})

describe('state: /v1.0/state/<store>', () => {
  it('saves an array of state objects (204), gets a value with its ETag (200), 204 for a missing key', async () => {
    const sidecar = await emulator.addSidecar({ appId: 'a' })
    const save = await api(sidecar.daprHttpPort, '/v1.0/state/statestore', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        { key: 'planet', value: { name: 'Tatooine' } },
        { key: 'weapon', value: 'DeathStar' },
      ]),
    })
    expect(save.status).toBe(204)
    const got = await api(sidecar.daprHttpPort, '/v1.0/state/statestore/planet')
    expect(got.status).toBe(200)
    expect(got.headers.get('etag')).toMatch(/\S+/)
    expect(await got.json()).toEqual({ name: 'Tatooine' })
    expect((await api(sidecar.daprHttpPort, '/v1.0/state/statestore/nothing')).status).toBe(204)
  })

  it('bulk-gets key/data/etag items, deletes, and enforces ETags: 409 on a save, 500 on a transaction', async () => {
    const sidecar = await emulator.addSidecar({ appId: 'a' })
    const post = (path: string, body: unknown) =>
      api(sidecar.daprHttpPort, path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    await post('/v1.0/state/statestore', [{ key: 'k1', value: 1 }])
    const bulk = (await (await post('/v1.0/state/statestore/bulk', { keys: ['k1', 'k2'] })).json()) as {
      etag: string
    }[]
    expect(bulk).toEqual([{ key: 'k1', data: 1, etag: expect.any(String) }, { key: 'k2' }])
    const etag = bulk[0]!.etag
    const stale = await post('/v1.0/state/statestore', [{ key: 'k1', value: 2, etag: 'stale' }])
    expect(stale.status).toBe(409)
    expect(await stale.json()).toMatchObject({ errorCode: 'ERR_STATE_SAVE' })
    const transaction = {
      operations: [
        {
          operation: 'upsert',
          request: { key: 'k1', value: 3, etag, options: { concurrency: 'first-write' } },
        },
        { operation: 'upsert', request: { key: 'k2', value: 'two' } },
      ],
    }
    expect((await post('/v1.0/state/statestore/transaction', transaction)).status).toBe(204)
    // the ETag is stale now: Dapr answers a failed transaction with 500, and applies none of it
    const failed = await post('/v1.0/state/statestore/transaction', {
      operations: [{ operation: 'delete', request: { key: 'k2' } }, ...transaction.operations],
    })
    expect(failed.status).toBe(500)
    expect(await failed.json()).toMatchObject({ errorCode: 'ERR_STATE_TRANSACTION' })
    expect(await (await api(sidecar.daprHttpPort, '/v1.0/state/statestore/k2')).json()).toBe('two')
    expect(await (await api(sidecar.daprHttpPort, '/v1.0/state/statestore/k1')).json()).toBe(3)
    const deleted = await api(sidecar.daprHttpPort, '/v1.0/state/statestore/k2', { method: 'DELETE' })
    expect(deleted.status).toBe(204)
    expect((await api(sidecar.daprHttpPort, '/v1.0/state/statestore/k2')).status).toBe(204)
  })

  it('an ETag never matches a missing key; last-write concurrency and no ETag skip the check', async () => {
    const sidecar = await emulator.addSidecar({ appId: 'a' })
    const save = (item: unknown) =>
      api(sidecar.daprHttpPort, '/v1.0/state/statestore', { method: 'POST', body: JSON.stringify([item]) })
    expect((await save({ key: 'gone', value: 1, etag: '1' })).status).toBe(409)
    const ifMatch = { method: 'DELETE', headers: { 'if-match': '1' } }
    expect((await api(sidecar.daprHttpPort, '/v1.0/state/statestore/gone', ifMatch)).status).toBe(409)
    expect(
      (await save({ key: 'k', value: 1, etag: 'old', options: { concurrency: 'last-write' } })).status,
    ).toBe(204)
    expect((await save({ key: 'k', value: 2 })).status).toBe(204)
    expect(await (await api(sidecar.daprHttpPort, '/v1.0/state/statestore/k')).json()).toBe(2)
  })

  it('expires a value after metadata.ttlInSeconds; -1 keeps it; a key with || is refused', async () => {
    const sidecar = await emulator.addSidecar({ appId: 'a' })
    const save = (item: unknown) =>
      api(sidecar.daprHttpPort, '/v1.0/state/statestore', { method: 'POST', body: JSON.stringify([item]) })
    const writtenAt = Date.now()
    expect((await save({ key: 'short', value: 1, metadata: { ttlInSeconds: '1' } })).status).toBe(204)
    expect((await save({ key: 'kept', value: 1, metadata: { ttlInSeconds: '-1' } })).status).toBe(204)
    expect((await api(sidecar.daprHttpPort, '/v1.0/state/statestore/short')).status).toBe(200)
    await vi.waitFor(
      async () => expect((await api(sidecar.daprHttpPort, '/v1.0/state/statestore/short')).status).toBe(204),
      { timeout: 3_000, interval: 50 },
    )
    expect(Date.now() - writtenAt).toBeGreaterThanOrEqual(1_000)
    expect((await api(sidecar.daprHttpPort, '/v1.0/state/statestore/kept')).status).toBe(200)
    const reserved = await save({ key: 'app||key', value: 1 })
    expect(reserved.status).toBe(400)
    expect(await reserved.json()).toMatchObject({ errorCode: 'ERR_MALFORMED_REQUEST' })
  })

  it('answers 400 ERR_STATE_STORE_NOT_FOUND for an unknown store', async () => {
    const sidecar = await emulator.addSidecar({ appId: 'a' })
    const response = await api(sidecar.daprHttpPort, '/v1.0/state/nostore/k')
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({ errorCode: 'ERR_STATE_STORE_NOT_FOUND' })
  })
})

describe('secrets, health and metadata', () => {
  it('gets a secret as {name: value}, 204 when missing, 400 for an unknown store', async () => {
    const sidecar = await emulator.addSidecar({ appId: 'a' })
    const found = await api(sidecar.daprHttpPort, '/v1.0/secrets/localsecrets/db-password')
    expect(found.status).toBe(200)
    expect(await found.json()).toEqual({ 'db-password': 's3cret' })
    expect((await api(sidecar.daprHttpPort, '/v1.0/secrets/localsecrets/other')).status).toBe(204)
    expect((await api(sidecar.daprHttpPort, '/v1.0/secrets/nostore/x')).status).toBe(400)
  })

  it('is outbound-healthy at once and fully healthy once the app port accepts connections', async () => {
    let port: number | undefined
    const sidecar = await emulator.addSidecar({ appId: 'late', appPort: () => port })
    expect((await api(sidecar.daprHttpPort, '/v1.0/healthz/outbound')).status).toBe(204)
    expect((await api(sidecar.daprHttpPort, '/v1.0/healthz')).status).toBe(500)
    port = (await app()).port
    await expect
      .poll(async () => (await api(sidecar.daprHttpPort, '/v1.0/healthz')).status, { timeout: 5_000 })
      .toBe(204)
    const metadata = await (await api(sidecar.daprHttpPort, '/v1.0/metadata')).json()
    expect(metadata).toMatchObject({ id: 'late', appConnectionProperties: { port, protocol: 'http' } })
  })
})

describe("the subscriber's status contract (verdictOf)", () => {
  it.each([
    [200, '', 'ack'],
    [200, '{}', 'ack'],
    [200, '{"status":"SUCCESS"}', 'ack'],
    [200, '{"status":"DROP"}', 'ack'],
    [200, '{"status":"RETRY"}', 'retry'],
    [200, '{"status":"WHATEVER"}', 'retry'],
    [204, '', 'ack'],
    [404, '', 'ack'],
    [500, '', 'retry'],
    [503, '{"status":"SUCCESS"}', 'retry'],
  ])('status %i with body %j → %s', (status, body, verdict) => {
    expect(verdictOf(status, Buffer.from(body))).toBe(verdict)
  })
})

describe('delivery never leaves a rejection behind (deliverToApp)', () => {
  function fakeMessage() {
    return {
      data: new TextEncoder().encode('{"specversion":"1.0"}'),
      ack: vi.fn(),
      nak: vi.fn(),
      working: vi.fn(),
    }
  }

  it('a dead-letter publish that fails (the connection closed) resolves, logs the reason and leaves the message unacknowledged', async () => {
    const logged: string[] = []
    const msg = fakeMessage()
    const target = {
      agent: new Agent(),
      app: () => undefined, // the app is gone: the verdict is retry
      broker: { publish: () => Promise.reject(new Error('closed connection')) },
      redeliveryDelayMs: 10,
      log: (line: string) => logged.push(line),
    } as unknown as DeliveryTarget
    const entry = { pubsubname: 'ps', topic: 'orders', route: '/in', deadLetterTopic: 'dead' }
    await expect(deliverToApp(target, entry, msg as unknown as JsMsg)).resolves.toBeUndefined()
    expect(msg.ack).not.toHaveBeenCalled()
    expect(msg.nak).not.toHaveBeenCalled()
    expect(logged.at(-1)).toBe('settling a message on orders failed: closed connection')
  })

  it('an ack that throws (the connection closed) resolves and logs the reason', async () => {
    const logged: string[] = []
    const msg = fakeMessage()
    msg.nak.mockImplementation(() => {
      throw new Error('closed connection')
    })
    const target = {
      agent: new Agent(),
      app: () => undefined,
      broker: {},
      redeliveryDelayMs: 10,
      log: (line: string) => logged.push(line),
    } as unknown as DeliveryTarget
    const entry = { pubsubname: 'ps', topic: 'orders', route: '/in' }
    await expect(deliverToApp(target, entry, msg as unknown as JsMsg)).resolves.toBeUndefined()
    expect(logged.at(-1)).toBe('settling a message on orders failed: closed connection')
  })
})
