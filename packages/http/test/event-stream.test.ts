import { MemoryBridge } from '@conduit/core'
import { unsupported } from '@conduit/core/transport'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGateway } from '../src/index.js'
import { bearer, hs256Token, startTestGateway, type TestGateway } from './support/gateway.js'
import { readJson } from './support/http.js'
import { userV1 } from './support/services.js'
import { openEventStream } from './support/sseReader.js'

let gateway: TestGateway
const events = (query = '') => gateway.url(`/api/events${query}`)

beforeAll(async () => {
  gateway = await startTestGateway()
})
afterAll(() => gateway.stop())

async function register(name: string, tenantId?: string) {
  const token = await hs256Token({ sub: name, ...(tenantId ? { tenantId } : {}) })
  const response = await fetch(gateway.url('/api/v1/user/users'), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...bearer(token) },
    body: JSON.stringify({ name, email: `${name}@example.org` }),
  })
  expect(response.status).toBe(201)
  return (await readJson(response)) as { userId: string }
}

describe('Server-Sent Events endpoint', () => {
  it('streams matching bridge events to an authenticated client', async () => {
    const stream = await openEventStream(events(), bearer(await hs256Token()))
    try {
      expect(stream.response.status).toBe(200)
      expect(stream.response.headers.get('content-type')).toMatch(/text\/event-stream/)
      const { userId } = await register('grace')
      const [message] = await stream.next()
      expect(message!.event).toBe('user.registered')
      expect(message!.id).toMatch(/.+/)
      expect(JSON.parse(message!.data)).toEqual({ userId, email: 'grace@example.org' })
    } finally {
      stream.close()
    }
  })

  it('401 without a token, 400 for an invalid pattern', async () => {
    expect((await fetch(events())).status).toBe(401)
    const response = await fetch(events('?event=user..x'), { headers: bearer(await hs256Token()) })
    expect(response.status).toBe(400)
    expect((await readJson(response)).code).toBe('INVALID_EVENT_PATTERN')
  })

  it('narrows by the client pattern and scopes a tenant-bound client to its tenant', async () => {
    const acme = await openEventStream(
      events('?event=user.*'),
      bearer(await hs256Token({ tenantId: 'acme' })),
    )
    const none = await openEventStream(events('?event=order.*'), bearer(await hs256Token()))
    const all = await openEventStream(events(), bearer(await hs256Token()))
    try {
      await register('globex-user', 'globex')
      await register('acme-user', 'acme')
      const [seenByAcme] = await acme.next()
      expect(JSON.parse(seenByAcme!.data).email).toBe('acme-user@example.org')
      const seenByAll = await all.next(2)
      expect(seenByAll.map((m) => JSON.parse(m.data).email)).toEqual([
        'globex-user@example.org',
        'acme-user@example.org',
      ])
      await expect(none.next(1, 300)).rejects.toThrow(/expected 1 SSE messages, got 0/)
      await expect(acme.next(1, 300)).rejects.toThrow(/got 0/)
    } finally {
      acme.close()
      none.close()
      all.close()
    }
  })

  it('holds one bridge subscription only while clients are connected', async () => {
    const { bridge } = gateway
    let open = 0
    const registerOnBridge = bridge.registerSubscription.bind(bridge)
    bridge.registerSubscription = async (spec, execute) => {
      expect(spec).toMatchObject({ eventPattern: 'user.#', everyInstance: true, delivery: 'at-most-once' })
      const registration = await registerOnBridge(spec, execute)
      open++
      return {
        close: async () => {
          open--
          await registration.close()
        },
      }
    }
    const first = await openEventStream(events(), bearer(await hs256Token()))
    const alongside = await openEventStream(events(), bearer(await hs256Token()))
    expect(open).toBe(1)
    first.close()
    alongside.close()
    await expect.poll(() => open).toBe(0)

    const second = await openEventStream(events(), bearer(await hs256Token()))
    try {
      expect(open).toBe(1)
      await register('linus')
      const [message] = await second.next()
      expect(JSON.parse(message!.data).email).toBe('linus@example.org')
    } finally {
      second.close()
    }
    await expect.poll(() => open).toBe(0)
  })
})

describe('event stream capabilities', () => {
  it('refuses a bridge without everyInstance delivery when the gateway is created', () => {
    const bridge = new MemoryBridge()
    Object.defineProperty(bridge, 'capabilities', {
      value: { ...bridge.capabilities, everyInstance: unsupported('no fan-out in this test bridge') },
    })
    expect(() =>
      createGateway({ services: [userV1], bridge, publicByDefault: true, sse: { eventPattern: 'user.#' } }),
    ).toThrow(/needs the capability "everyInstance".*no fan-out in this test bridge/)
  })
})
