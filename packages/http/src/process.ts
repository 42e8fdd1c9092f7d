import { setTimeout as delay } from 'node:timers/promises'
import { flushTelemetry, HealthMonitor } from '@conduit/core'
import type { Hono } from 'hono'
import { createGateway, type GatewayEnv, type GatewayOptions } from './gateway.js'
import { type ServedGateway, type ServeOptions, serveGateway } from './serve.js'

export interface GatewayProcessOptions extends GatewayOptions, ServeOptions {
  /** start the bridge first and stop it last (default true: the process owns its bridge) */
  ownsBridge?: boolean
  /** stop gracefully on SIGINT / SIGTERM (default true); a second signal exits at once */
  handleSignals?: boolean
  /**
   * On stop, how long `/readyz` answers 503 before the listener closes, so load balancers stop
   * sending requests before connections are refused; default 5 s
   */
  shutdownDelayMs?: number
}

export interface RunningGateway extends ServedGateway {
  readonly app: Hono<GatewayEnv>
  /** behind `/healthz` and `/readyz` */
  readonly health: HealthMonitor
  /**
   * Readiness turns 503, then after `shutdownDelayMs` the listener closes and requests in flight
   * complete (streams are cut after `closeTimeoutMs`), then the bridge stops if the process owns it.
   */
  stop(): Promise<void>
}

export const DEFAULT_SHUTDOWN_DELAY_MS = 5_000

/**
 * The gateway as its own process: starts the bridge, serves the routes of the given service
 * definitions (their handlers run elsewhere, behind the bridge) and shuts down on signals.
 */
export async function runGatewayProcess(options: GatewayProcessOptions): Promise<RunningGateway> {
  const { bridge, readiness, ...gatewayOptions } = options
  const ownsBridge = options.ownsBridge ?? true
  const shutdownDelayMs = options.shutdownDelayMs ?? DEFAULT_SHUTDOWN_DELAY_MS
  const logger = (options.logger ?? bridge.logger).child({ component: 'http-gateway' })
  if (options.health && readiness) {
    throw new TypeError('runGatewayProcess: pass the readiness checks to the HealthMonitor given as `health`')
  }
  const health = options.health ?? new HealthMonitor(bridge, readiness ?? {})
  if (ownsBridge) await bridge.start()
  let served: ServedGateway
  let app: Hono<GatewayEnv>
  try {
    app = createGateway({ ...gatewayOptions, bridge, health })
    served = await serveGateway(app, options)
  } catch (error) {
    if (ownsBridge) await bridge.stop()
    throw error
  }
  let stopping: Promise<void> | undefined
  const stop = (reason = 'shutting down') => {
    stopping ??= (async () => {
      process.off('SIGINT', onSignal).off('SIGTERM', onSignal)
      health.markStopping(reason)
      logger.info({ shutdownDelayMs }, 'gateway stopping: /readyz answers 503 from now on')
      await delay(shutdownDelayMs)
      logger.info('gateway closing its listener; requests in flight complete')
      await served.close()
      if (ownsBridge) await bridge.stop()
      logger.info('gateway stopped')
    })()
    return stopping
  }
  const onSignal = (signal: NodeJS.Signals) => {
    logger.info({ signal }, 'signal received')
    // from now on a second signal means "now": exit without waiting for the requests in flight
    const exitNow = (second: NodeJS.Signals) => {
      logger.warn({ signal: second }, 'second signal: exiting without waiting')
      process.exit(1)
    }
    process.once('SIGINT', exitNow).once('SIGTERM', exitNow)
    // what the OpenTelemetry SDK still buffers goes out before the process ends (bounded)
    const flushed = () => flushTelemetry(2_000, logger, 'the process exits without it')
    stop(`${signal} received`).then(
      () => flushed().then(() => process.exit(0)),
      (error) => {
        logger.error({ err: error }, 'gateway did not stop cleanly')
        return flushed().then(() => process.exit(1))
      },
    )
  }
  if (options.handleSignals ?? true) process.once('SIGINT', onSignal).once('SIGTERM', onSignal)
  logger.info(
    { url: served.url, services: options.services.map((s) => `${s.name} v${s.version}`) },
    'gateway listening',
  )
  return { ...served, close: served.close, app, health, stop: () => stop() }
}
