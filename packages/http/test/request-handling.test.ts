import { MemoryBridge } from '@conduit/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGateway } from '../src/index.js'
import { startTestGateway, type TestGateway } from './support/gateway.js'
import { readJson } from './support/http.js'
import { billingV1, userV1 } from './support/services.js'

let gateway: TestGateway
let small: TestGateway

beforeAll(async () => {
  gateway = await startTestGateway({ cors: { origin: 'https://app.example.org' } })
  small = await startTestGateway({ bodyLimit: 64 })
})
afterAll(async () => {
  await gateway.stop()
  await small.stop()
})

const put = (
  target: TestGateway,
  body: RequestInit['body'],
  headers: Record<string, string> = { 'content-type': 'application/json' },
) => fetch(target.url('/api/v1/user/echo'), { method: 'PUT', headers, body, duplex: 'half' } as RequestInit)

describe('request bodies', () => {
  it('413 when the declared length exceeds the default 1 MiB limit', async () => {
    const response = await put(gateway, JSON.stringify({ text: 'x'.repeat(1024 * 1024) }))
    expect(response.status).toBe(413)
    expect(await readJson(response)).toMatchObject({
      status: 413,
      code: 'PAYLOAD_TOO_LARGE',
      data: { limit: 1048576 },
    })
  })

  it('accepts a body just under the limit', async () => {
    const response = await put(gateway, JSON.stringify({ text: 'x'.repeat(1024 * 1024 - 20) }))
    expect(response.status).toBe(200)
    expect((await readJson(response)).length).toBe(1024 * 1024 - 20)
  })

  it('413 for a chunked body that grows past a configured limit', async () => {
    const chunks = ['{"text":"', 'y'.repeat(50), 'y'.repeat(50), '"}']
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift()
        if (next === undefined) controller.close()
        else controller.enqueue(new TextEncoder().encode(next))
      },
    })
    const response = await put(small, stream)
    expect(response.status).toBe(413)
    expect((await readJson(response)).data).toEqual({ limit: 64 })
  })

  it('400 for malformed JSON', async () => {
    const response = await put(gateway, '{"text": ')
    expect(response.status).toBe(400)
    const body = await readJson(response)
    expect(body).toMatchObject({ status: 400, code: 'MALFORMED_JSON' })
    expect(body.message).toMatch(/^Malformed JSON body/)
  })

  it('415 for a body that is not JSON', async () => {
    const response = await put(gateway, 'text=hi', { 'content-type': 'application/x-www-form-urlencoded' })
    expect(response.status).toBe(415)
    expect((await readJson(response)).code).toBe('UNSUPPORTED_MEDIA_TYPE')
  })

  it('an empty body is the empty payload, validated by the input schema', async () => {
    const response = await fetch(gateway.url('/api/v1/user/echo'), { method: 'PUT' })
    expect(response.status).toBe(400)
    expect((await readJson(response)).data.issues[0].path).toEqual(['text'])
  })
})

describe('routing', () => {
  it('404 in JSON for an unknown route', async () => {
    const response = await fetch(gateway.url('/api/v1/user/nope'))
    expect(response.status).toBe(404)
    expect(response.headers.get('content-type')).toMatch(/application\/json/)
    expect(await readJson(response)).toMatchObject({
      status: 404,
      code: 'ROUTE_NOT_FOUND',
      message: 'No route for GET /api/v1/user/nope',
    })
  })

  it('keeps Hono on its RegExpRouter (a route shape it cannot compile slows every request)', async () => {
    const app = createGateway({
      services: [userV1, billingV1],
      bridge: new MemoryBridge(),
      publicByDefault: true,
      sse: { eventPattern: '#' },
      cors: true,
    })
    await app.request('/healthz')
    expect((app.router as { name: string }).name).toBe('SmartRouter + RegExpRouter')
  })

  it('commands without an http binding have no route', async () => {
    const response = await fetch(gateway.url('/api/v1/user/internalOnly'), { method: 'POST' })
    expect(response.status).toBe(404)
  })
})

describe('correlation id', () => {
  it('echoes a well-formed x-correlation-id', async () => {
    const response = await fetch(gateway.url('/api/v1/user/users/u-404'), {
      headers: { 'x-correlation-id': 'req-42' },
    })
    expect(response.headers.get('x-correlation-id')).toBe('req-42')
    expect((await readJson(response)).correlationId).toBe('req-42')
  })

  it('accepts x-request-id as the incoming id', async () => {
    const response = await fetch(gateway.url('/healthz'), { headers: { 'x-request-id': 'lb-7' } })
    expect(response.headers.get('x-correlation-id')).toBe('lb-7')
  })

  it('replaces a malformed id with a generated one', async () => {
    const response = await fetch(gateway.url('/healthz'), {
      headers: { 'x-correlation-id': 'bad id\twith spaces' },
    })
    expect(response.headers.get('x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/)
  })
})

describe('CORS', () => {
  it('answers a preflight for the configured origin and exposes the correlation header', async () => {
    const preflight = await fetch(gateway.url('/api/v1/user/echo'), {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.org', 'access-control-request-method': 'PUT' },
    })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example.org')
    const actual = await put(gateway, JSON.stringify({ text: 'hi' }), {
      'content-type': 'application/json',
      origin: 'https://app.example.org',
    })
    expect(actual.headers.get('access-control-allow-origin')).toBe('https://app.example.org')
    expect(actual.headers.get('access-control-expose-headers')).toMatch(/x-correlation-id/)
  })

  it('sends no CORS headers when CORS is not configured', async () => {
    const response = await fetch(small.url('/healthz'), { headers: { origin: 'https://evil.example' } })
    expect(response.headers.get('access-control-allow-origin')).toBeNull()
  })
})
