import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ErrorBody } from '../src/index.js'
import { bearer, hs256Token, startTestGateway, type TestGateway } from './support/gateway.js'
import { readJson } from './support/http.js'
import { SECRET_IN_STACK } from './support/services.js'

let gateway: TestGateway
let token: string

beforeAll(async () => {
  gateway = await startTestGateway()
  token = await hs256Token()
})
afterAll(() => gateway.stop())

const json = { 'content-type': 'application/json' }

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(gateway.url(path), {
    method,
    headers: { ...(body === undefined ? {} : json), ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  })
  const text = await response.text()
  return { response, status: response.status, body: text === '' ? undefined : JSON.parse(text) }
}

function expectErrorBody(body: ErrorBody, status: number, code: string) {
  expect(body).toMatchObject({ status, code })
  expect(typeof body.message).toBe('string')
  expect(typeof body.correlationId).toBe('string')
}

describe('success statuses from the definitions', () => {
  it('201 with the output for POST /api/v1/user/users', async () => {
    const { status, body, response } = await call(
      'POST',
      '/api/v1/user/users',
      { name: 'Ada', email: 'ada@example.org' },
      bearer(token),
    )
    expect(status).toBe(201)
    expect(body).toEqual({ userId: 'u-1', name: 'Ada', email: 'ada@example.org' })
    expect(response.headers.get('content-type')).toMatch(/application\/json/)
  })

  it('200 with a path parameter on a public GET', async () => {
    const { status, body } = await call('GET', '/api/v1/user/users/u-1')
    expect(status).toBe(200)
    expect(body.email).toBe('ada@example.org')
  })

  it('200 with query parameters coerced by the parameter schema', async () => {
    const { status, body } = await call('GET', '/api/v1/user/users?limit=1&name=Ada')
    expect(status).toBe(200)
    expect(body).toMatchObject({ limit: 1, users: [{ userId: 'u-1' }] })
  })

  it('204 without a body when the command declares it', async () => {
    const admin = await hs256Token({ sub: 'admin' })
    await call('POST', '/api/v1/user/users', { name: 'Bob', email: 'bob@example.org' }, bearer(token))
    const { status, body, response } = await call(
      'DELETE',
      '/api/v1/user/users/u-2',
      undefined,
      bearer(admin),
    )
    expect(status).toBe(204)
    expect(body).toBeUndefined()
    expect(response.headers.get('content-type')).toBeNull()
  })
})

describe('error statuses', () => {
  it('400 with the zod issues for an invalid body', async () => {
    const { status, body } = await call(
      'POST',
      '/api/v1/user/users',
      { name: '', email: 'nope' },
      bearer(token),
    )
    expect(status).toBe(400)
    expectErrorBody(body, 400, 'VALIDATION_FAILED')
    expect(body.data.target).toBe('input')
    expect(body.data.issues.map((issue: { path: string[] }) => issue.path.join('.')).sort()).toEqual([
      'email',
      'name',
    ])
  })

  it('400 naming the parameter when a query value is out of range', async () => {
    const { status, body } = await call('GET', '/api/v1/user/users?limit=1000')
    expect(status).toBe(400)
    expect(body.data).toMatchObject({ target: 'parameter', issues: [{ path: ['limit'] }] })
  })

  it('401 without credentials on a protected endpoint', async () => {
    const { status, body, response } = await call('POST', '/api/v1/user/users', {
      name: 'Eve',
      email: 'eve@example.org',
    })
    expect(status).toBe(401)
    expectErrorBody(body, 401, 'UNAUTHORIZED')
    expect(response.headers.get('www-authenticate')).toBe('Bearer')
  })

  it('403 when a guard denies the call', async () => {
    const { status, body } = await call('DELETE', '/api/v1/user/users/u-1', undefined, bearer(token))
    expect(status).toBe(403)
    expectErrorBody(body, 403, 'FORBIDDEN')
    expect(body.message).toBe('Only admins delete users')
  })

  it('404 from a HandledError keeps its message', async () => {
    const { status, body } = await call('GET', '/api/v1/user/users/u-404')
    expect(status).toBe(404)
    expect(body).toMatchObject({ status: 404, code: 'NOT_FOUND', message: 'No user u-404' })
  })

  it('409 from a HandledError keeps its data', async () => {
    const { status, body } = await call(
      'POST',
      '/api/v1/user/users',
      { name: 'Ada', email: 'ada@example.org' },
      bearer(token),
    )
    expect(status).toBe(409)
    expect(body).toMatchObject({
      code: 'CONFLICT',
      message: 'Email already registered',
      data: { email: 'ada@example.org' },
    })
  })

  it('500 with a generic message and the correlation id, never a stack', async () => {
    const { status, body, response } = await call('POST', '/api/v1/user/crash', undefined, {
      'x-correlation-id': 'crash-1',
    })
    expect(status).toBe(500)
    expect(body).toEqual({
      status: 500,
      code: 'INTERNAL',
      message: 'Internal error (correlation id crash-1)',
      retryable: false,
      correlationId: 'crash-1',
    })
    expect(response.headers.get('x-correlation-id')).toBe('crash-1')
    expect(JSON.stringify(body)).not.toContain(SECRET_IN_STACK)
  })

  it('500, not 400, when the handler breaks its output schema', async () => {
    const { status, body } = await call('GET', '/api/v1/user/bad-output')
    expect(status).toBe(500)
    expect(body.code).toBe('INTERNAL')
    expect(body.data).toBeUndefined()
  })

  it('503 when no instance serves the command', async () => {
    const { status, body } = await call('POST', '/api/v1/billing/charges', { amount: 5 })
    expect(status).toBe(503)
    expectErrorBody(body, 503, 'NO_HANDLER')
  })

  it('504 when the command misses its deadline', async () => {
    const { status, body } = await call('POST', '/api/v1/user/slow')
    expect(status).toBe(504)
    expectErrorBody(body, 504, 'TIMEOUT')
  })

  it('503 when the bridge is down', async () => {
    const stopped = await startTestGateway()
    await stopped.bridge.stop()
    const response = await fetch(stopped.url('/api/v1/user/users/u-1'))
    expect(response.status).toBe(503)
    expect(await readJson(response)).toMatchObject({ code: 'BRIDGE_UNAVAILABLE' })
    await stopped.served.close()
  })
})
