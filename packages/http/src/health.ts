import type { EventBridge } from '@conduit/core'
import type { Hono } from 'hono'

/** A dependency check for `/readyz`: true when the dependency can serve. */
export type ReadinessCheck = () => boolean | Promise<boolean>

const CHECK_TIMEOUT_MS = 2_000

/**
 * `/healthz` answers while the process serves HTTP (liveness). `/readyz` answers 200 only when
 * the bridge and every extra dependency are ready, and lists each one so an operator sees which.
 */
export function mountHealth(
  app: Hono<any>,
  bridge: EventBridge,
  checks: Record<string, ReadinessCheck>,
): void {
  app.get('/healthz', (c) => c.json({ status: 'ok' }))
  app.get('/readyz', async (c) => {
    const results: Record<string, { ready: boolean; detail?: string }> = {
      bridge: { ready: bridge.isReady(), detail: bridge.name },
    }
    await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        results[name] = await runCheck(check)
      }),
    )
    const ready = Object.values(results).every((result) => result.ready)
    c.header('cache-control', 'no-store')
    return c.json({ status: ready ? 'ready' : 'not ready', checks: results }, ready ? 200 : 503)
  })
}

async function runCheck(check: ReadinessCheck): Promise<{ ready: boolean; detail?: string }> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS)
  })
  try {
    return { ready: (await Promise.race([Promise.resolve(check()), timeout])) === true }
  } catch (error) {
    return { ready: false, detail: (error as Error).message }
  } finally {
    clearTimeout(timer)
  }
}
