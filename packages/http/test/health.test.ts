import { describe, expect, it } from 'vitest'
import { startTestGateway } from './support/gateway.js'
import { readJson } from './support/http.js'

describe('health endpoints', () => {
  it('/healthz answers while the process serves; /readyz follows the bridge and each dependency', async () => {
    let databaseUp = true
    const gateway = await startTestGateway({
      readiness: { database: () => databaseUp, cache: async () => true },
    })
    try {
      const healthz = await fetch(gateway.url('/healthz'))
      expect(healthz.status).toBe(200)
      expect(await readJson(healthz)).toEqual({ status: 'ok' })

      const ready = await fetch(gateway.url('/readyz'))
      expect(ready.status).toBe(200)
      expect(await readJson(ready)).toEqual({
        status: 'ready',
        checks: {
          bridge: { ready: true, detail: 'memory' },
          database: { ready: true },
          cache: { ready: true },
        },
      })

      databaseUp = false
      const degraded = await fetch(gateway.url('/readyz'))
      expect(degraded.status).toBe(503)
      expect((await readJson(degraded)).checks.database).toEqual({ ready: false })

      databaseUp = true
      await gateway.bridge.stop()
      const bridgeDown = await fetch(gateway.url('/readyz'))
      expect(bridgeDown.status).toBe(503)
      expect((await readJson(bridgeDown)).checks.bridge.ready).toBe(false)
      expect((await fetch(gateway.url('/healthz'))).status).toBe(200)
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
      expect((await readJson(response)).checks.broken).toEqual({ ready: false, detail: 'connection refused' })
    } finally {
      await gateway.stop()
    }
  })
})
