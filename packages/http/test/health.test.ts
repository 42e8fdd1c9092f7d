import { HealthMonitor, MemoryBridge } from '@conduit/core'
import { describe, expect, it } from 'vitest'
import { createGateway } from '../src/index.js'
import { startTestGateway } from './support/gateway.js'
import { readJson } from './support/http.js'
import { userV1 } from './support/services.js'

describe('health endpoints', () => {
  it('/readyz follows the bridge and each dependency, with the reason and the time since the last change', async () => {
    let databaseUp = true
    const gateway = await startTestGateway({
      readiness: { database: () => databaseUp, cache: async () => true },
    })
    try {
      const healthz = await fetch(gateway.url('/healthz'))
      expect(healthz.status).toBe(200)
      expect(healthz.headers.get('cache-control')).toBe('no-store')
      expect(await readJson(healthz)).toEqual({ status: 'ok' })

      const ready = await fetch(gateway.url('/readyz'))
      expect(ready.status).toBe(200)
      expect(await readJson(ready)).toEqual({
        status: 'ready',
        sinceChangeMs: expect.any(Number),
        checks: {
          bridge: { ready: true, detail: 'memory' },
          database: { ready: true },
          cache: { ready: true },
        },
      })

      databaseUp = false
      const degraded = await fetch(gateway.url('/readyz'))
      expect(degraded.status).toBe(503)
      const degradedBody = await readJson(degraded)
      expect(degradedBody).toMatchObject({ status: 'not ready', reason: 'database not ready' })
      expect(degradedBody.checks.database).toEqual({ ready: false })
      // readiness just changed: the clock restarted
      expect(degradedBody.sinceChangeMs).toBeLessThan(1_000)
      // a dependency that is down is not a reason to restart the process
      expect((await fetch(gateway.url('/healthz'))).status).toBe(200)
    } finally {
      await gateway.stop()
    }
  })

  it('/healthz fails with the reason once the bridge is no longer healthy', async () => {
    const gateway = await startTestGateway()
    try {
      await gateway.bridge.stop()
      const healthz = await fetch(gateway.url('/healthz'))
      expect(healthz.status).toBe(503)
      expect(await readJson(healthz)).toEqual({
        status: 'unhealthy',
        reason: expect.stringMatching(/the memory bridge is not healthy/),
      })
      const readyz = await fetch(gateway.url('/readyz'))
      expect(readyz.status).toBe(503)
      expect((await readJson(readyz)).checks.bridge.ready).toBe(false)
    } finally {
      await gateway.served.close()
    }
  })

  it('a throwing check is not ready and says why', async () => {
    const gateway = await startTestGateway({
      readiness: {
        broken: () => {
          throw new Error('connection refused')
        },
      },
    })
    try {
      const response = await fetch(gateway.url('/readyz'))
      expect(response.status).toBe(503)
      const body = await readJson(response)
      expect(body.checks.broken).toEqual({ ready: false, detail: 'connection refused' })
      expect(body.reason).toBe('broken not ready (connection refused)')
    } finally {
      await gateway.stop()
    }
  })

  it('a shared HealthMonitor drives /readyz: shutting down is not ready, whatever the checks say', async () => {
    const bridge = new MemoryBridge()
    const health = new HealthMonitor(bridge, { database: () => true })
    const gateway = await startTestGateway({ bridge, health })
    try {
      expect((await fetch(gateway.url('/readyz'))).status).toBe(200)
      health.markStopping()
      const stopping = await fetch(gateway.url('/readyz'))
      expect(stopping.status).toBe(503)
      expect(await readJson(stopping)).toMatchObject({
        status: 'not ready',
        reason: 'shutting down',
        checks: { bridge: { ready: true }, database: { ready: true } },
      })
      expect((await fetch(gateway.url('/healthz'))).status).toBe(200)
    } finally {
      await gateway.stop()
    }
  })

  it('refuses readiness checks beside a HealthMonitor, which would silently ignore them', () => {
    const bridge = new MemoryBridge()
    expect(() =>
      createGateway({
        services: [userV1],
        bridge,
        publicByDefault: true,
        health: new HealthMonitor(bridge),
        readiness: { database: () => true },
      }),
    ).toThrow(/pass the readiness checks to the HealthMonitor/)
  })
})
