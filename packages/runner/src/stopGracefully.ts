import type { EventBridge, HealthMonitor, Logger, ServiceInstance } from '@conduit/core'
import type { HealthServer } from './healthServer.js'

/**
 * How long the bridge may take to disconnect once the drain is over (flushing replies and acks,
 * closing the connection). With the drain timeout, it bounds the whole shutdown.
 */
export const DISCONNECT_TIMEOUT_MS = 5_000

export interface GracefulStop {
  reason: string
  logger: Logger
  health: HealthMonitor
  instances: readonly ServiceInstance[]
  /** undefined when it never started */
  bridge: EventBridge | undefined
  healthServer: HealthServer | undefined
  drainTimeoutMs: number
  /** called right before the health server closes */
  beforeHealthCloses: () => void
}

/**
 * The shutdown order, each step logged:
 * 1. readiness turns false (`/readyz` 503) before anything closes, so no new work is routed here;
 * 2. every instance stops taking messages and drains, all together against one bound (stopped
 *    one by one, a slow handler in the first would delay the others past the bound);
 * 3. the bridge disconnects: replies of the drained handlers are already sent;
 * 4. the health server closes.
 * Resolves true when every step finished cleanly (a drain cut at its bound still counts as clean:
 * that is the documented policy), false when one failed or overran.
 */
export async function stopGracefully(stop: GracefulStop): Promise<boolean> {
  const { logger, health } = stop
  const startedAt = performance.now()
  const elapsedMs = () => Math.round(performance.now() - startedAt)
  let clean = true

  health.markStopping(stop.reason)
  logger.info(
    { reason: stop.reason, drainTimeoutMs: stop.drainTimeoutMs, instances: stop.instances.length },
    'shutting down: /readyz answers 503, intake stopped, draining handlers in flight',
  )
  const drain = Promise.allSettled(stop.instances.map((instance) => instance.stop())).then((results) => {
    for (const result of results)
      if (result.status === 'rejected') logger.error({ err: result.reason }, 'a service did not stop cleanly')
  })
  const drainedInTime = await finishesWithin(drain, stop.drainTimeoutMs)
  // The instances' own bound (the bridge's drainTimeout, often the same value) can end the drain
  // at the bound a moment before our timer fires: that is still a drain cut at the bound.
  if (drainedInTime && performance.now() - startedAt < stop.drainTimeoutMs) {
    logger.info({ ms: elapsedMs() }, 'services drained')
  } else {
    logger.warn(
      { ms: elapsedMs(), drainTimeoutMs: stop.drainTimeoutMs },
      'drain timeout reached: handlers still running are abandoned',
    )
  }

  if (stop.bridge) {
    const disconnect = stop.bridge.stop().then(
      () => true,
      (error: unknown) => {
        logger.error({ err: error }, 'the bridge failed to disconnect')
        return false
      },
    )
    const finished = await finishesWithin(disconnect, DISCONNECT_TIMEOUT_MS)
    if (finished && (await disconnect)) logger.info({ ms: elapsedMs() }, 'bridge disconnected')
    else {
      clean = false
      if (!finished)
        logger.error({ timeoutMs: DISCONNECT_TIMEOUT_MS }, 'the bridge did not disconnect in time')
    }
  }

  stop.beforeHealthCloses()
  if (stop.healthServer) {
    await stop.healthServer.close()
    logger.info({ ms: elapsedMs() }, 'health server closed')
  }
  logger.info({ ms: elapsedMs(), clean }, 'process stopped')
  return clean
}

/** true if `work` settles within `ms`; the work itself goes on either way. */
async function finishesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms)
  })
  try {
    return await Promise.race([work.then(() => true), timeout])
  } finally {
    clearTimeout(timer)
  }
}
