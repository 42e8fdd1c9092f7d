import { createDefaultLogger, HealthMonitor, MemoryBridge } from '@conduit/core'
import { afterEach, describe, expect, it } from 'vitest'
import { type HealthServer, serveHealth } from './healthServer.js'

const logger = createDefaultLogger({}, { level: 'silent' })
let server: HealthServer | undefined
let bridge: MemoryBridge | undefined

afterEach(async () => {
  await server?.close()
  await bridge?.stop()
})

async function get(path: string, init?: RequestInit) {
  const response = await fetch(`${server!.url}${path}`, init)
  const text = await response.text()
  return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers }
}

describe('serveHealth', () => {
  it('answers liveness and readiness from the monitor, uncached', async () => {
    bridge = new MemoryBridge({ logger })
    let databaseUp = true
    const monitor = new HealthMonitor(bridge, { database: () => databaseUp })
    server = await serveHealth(monitor, { port: 0, hostname: '127.0.0.1' })
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`)

    expect((await get('/healthz')).status).toBe(503) // not started yet
    await bridge.start()
    const live = await get('/healthz')
    expect(live).toMatchObject({ status: 200, body: { status: 'ok' } })
    expect(live.headers.get('cache-control')).toBe('no-store')
    expect(await get('/readyz')).toMatchObject({
      status: 200,
      body: { status: 'ready', checks: { bridge: { ready: true }, database: { ready: true } } },
    })

    databaseUp = false
    expect(await get('/readyz')).toMatchObject({
      status: 503,
      body: { status: 'not ready', reason: 'database not ready', sinceChangeMs: expect.any(Number) },
    })
    databaseUp = true
    monitor.markStopping('SIGTERM received')
    expect(await get('/readyz')).toMatchObject({ status: 503, body: { reason: 'SIGTERM received' } })
    expect((await get('/healthz')).status).toBe(200)
  })

  it('answers only GET and HEAD on its two paths', async () => {
    bridge = new MemoryBridge({ logger })
    await bridge.start()
    server = await serveHealth(new HealthMonitor(bridge), { port: 0, hostname: '127.0.0.1' })
    expect((await get('/')).status).toBe(404)
    expect((await get('/healthz/more')).status).toBe(404)
    const post = await get('/readyz', { method: 'POST' })
    expect(post.status).toBe(405)
    expect(post.headers.get('allow')).toBe('GET, HEAD')
    expect(await get('/healthz', { method: 'HEAD' })).toMatchObject({ status: 200, body: undefined })
    expect((await get('/readyz?verbose=1')).status).toBe(200)
  })
})
