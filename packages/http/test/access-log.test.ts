import { afterEach, describe, expect, it } from 'vitest'
import { startTestGateway, type TestGateway } from './support/gateway.js'
import { captureLogs } from './support/logs.js'

// No OpenTelemetry SDK in this file: the access log stands on its own.
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`

let gateway: TestGateway | undefined
afterEach(async () => {
  await gateway?.stop()
  gateway = undefined
})

const json = { 'content-type': 'application/json' }

describe('the access log', () => {
  it('writes one line per request with method, route, path, status, duration, correlation id, trace id and user agent', async () => {
    const logs = captureLogs('info')
    gateway = await startTestGateway({ logger: logs.logger })
    const response = await fetch(gateway.url('/api/v1/user/echo?verbose=yes'), {
      method: 'PUT',
      headers: {
        ...json,
        'x-correlation-id': 'corr-1',
        traceparent: TRACEPARENT,
        'user-agent': 'conduit-test/1.0',
      },
      body: JSON.stringify({ text: 'hello' }),
    })
    expect(response.status).toBe(200)
    const lines = logs.accessLines()
    expect(lines).toHaveLength(1)
    expect(lines[0]).toEqual({
      level: 30,
      time: expect.any(Number),
      pid: process.pid,
      hostname: expect.any(String),
      component: 'http-gateway',
      msg: 'http request',
      method: 'PUT',
      route: '/api/v1/user/echo',
      path: '/api/v1/user/echo', // never the query string
      status: 200,
      durationMs: expect.any(Number),
      correlationId: 'corr-1',
      traceId: TRACE_ID,
      userAgent: 'conduit-test/1.0',
    })
    expect(lines[0]!.durationMs).toBeGreaterThan(0)
  })

  it('logs a 401 and a malformed JSON body, but neither the Authorization header nor the body', async () => {
    const logs = captureLogs('trace')
    gateway = await startTestGateway({ logger: logs.logger })
    const token = `token-${Math.random().toString(36).slice(2)}`
    const bodySecret = `body-${Math.random().toString(36).slice(2)}`
    const unauthorized = await fetch(gateway.url('/api/v1/user/users'), {
      method: 'POST',
      headers: { ...json, authorization: `Bearer ${token}`, traceparent: TRACEPARENT },
      body: JSON.stringify({ name: bodySecret, email: 'ada@example.org' }),
    })
    expect(unauthorized.status).toBe(401)
    const malformed = await fetch(gateway.url('/api/v1/user/echo'), {
      method: 'PUT',
      headers: json,
      body: `{"text": ${bodySecret}`,
    })
    expect(malformed.status).toBe(400)

    expect(logs.accessLines().map(({ method, route, status }) => ({ method, route, status }))).toEqual([
      { method: 'POST', route: '/api/v1/user/users', status: 401 },
      { method: 'PUT', route: '/api/v1/user/echo', status: 400 },
    ])
    const [first, second] = logs.accessLines()
    expect(first!.correlationId).toBe(unauthorized.headers.get('x-correlation-id'))
    expect(first!.traceId).toBe(TRACE_ID)
    // no traceparent and no SDK: the trace starts at the bridge, after this line
    expect(second).not.toHaveProperty('traceId')
    const leaks = logs.raw.filter((line) => line.includes(token) || line.includes(bodySecret))
    expect(leaks).toEqual([])
  })

  it('writes at the level the user sets, and nothing when turned off', async () => {
    const debugLogs = captureLogs('debug')
    gateway = await startTestGateway({ logger: debugLogs.logger, accessLog: { level: 'debug' } })
    await fetch(gateway.url('/healthz'))
    expect(debugLogs.accessLines().map((line) => line.level)).toEqual([20])
    await gateway.stop()

    const infoLogs = captureLogs('info')
    gateway = await startTestGateway({ logger: infoLogs.logger, accessLog: { level: 'debug' } })
    await fetch(gateway.url('/healthz'))
    expect(infoLogs.accessLines()).toEqual([])
    await gateway.stop()

    const offLogs = captureLogs('trace')
    gateway = await startTestGateway({ logger: offLogs.logger, accessLog: false })
    await fetch(gateway.url('/healthz'))
    await fetch(gateway.url('/api/v1/user/nothing-here'))
    expect(offLogs.accessLines()).toEqual([])
  })

  it('covers every other path once: health, docs, unknown routes and CORS preflights', async () => {
    const logs = captureLogs('info')
    gateway = await startTestGateway({ logger: logs.logger, cors: true })
    expect((await fetch(gateway.url('/healthz'))).status).toBe(200)
    expect((await fetch(gateway.url('/readyz'))).status).toBe(200)
    expect((await fetch(gateway.url('/docs'))).status).toBe(200)
    expect((await fetch(gateway.url('/docs/missing.js'))).status).toBe(404)
    expect((await fetch(gateway.url('/nowhere'))).status).toBe(404)
    const preflight = await fetch(gateway.url('/api/v1/user/echo'), {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.org', 'access-control-request-method': 'PUT' },
    })
    expect(preflight.status).toBe(204)

    expect(
      logs.accessLines().map(({ method, route, path, status }) => ({ method, route, path, status })),
    ).toEqual([
      { method: 'GET', route: '/healthz', path: '/healthz', status: 200 },
      { method: 'GET', route: '/readyz', path: '/readyz', status: 200 },
      { method: 'GET', route: '/docs', path: '/docs', status: 200 },
      { method: 'GET', route: '/docs/:asset', path: '/docs/missing.js', status: 404 },
      // no route matched: none is named
      { method: 'GET', route: undefined, path: '/nowhere', status: 404 },
      { method: 'OPTIONS', route: undefined, path: '/api/v1/user/echo', status: 204 },
    ])
  })
})
