import type { HealthMonitor } from '@conduit/core'
import type { Hono } from 'hono'

export type { ReadinessCheck } from '@conduit/core'

/**
 * `/healthz` is liveness: 200 while the bridge is healthy, 503 with the reason once its client
 * has given up for good (the orchestrator should restart the process). `/readyz` is readiness:
 * 200 when the bridge and every extra check are ready, else 503 with the first reason; it turns
 * 503 the moment shutdown begins. Both come from core's `HealthMonitor`, which service-only
 * processes use too.
 */
export function mountHealth(app: Hono<any>, health: HealthMonitor): void {
  app.get('/healthz', (c) => {
    const liveness = health.liveness()
    c.header('cache-control', 'no-store')
    return liveness.live
      ? c.json({ status: 'ok' })
      : c.json({ status: 'unhealthy', reason: liveness.reason }, 503)
  })
  app.get('/readyz', async (c) => {
    const readiness = await health.readiness()
    c.header('cache-control', 'no-store')
    return c.json(
      {
        status: readiness.ready ? 'ready' : 'not ready',
        ...(readiness.reason === undefined ? {} : { reason: readiness.reason }),
        sinceChangeMs: readiness.sinceChangeMs,
        checks: readiness.checks,
      },
      readiness.ready ? 200 : 503,
    )
  })
}
