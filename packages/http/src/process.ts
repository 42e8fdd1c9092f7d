import type { Hono } from 'hono'
import { createGateway, type GatewayEnv, type GatewayOptions } from './gateway.js'
import { type ServedGateway, type ServeOptions, serveGateway } from './serve.js'

export interface GatewayProcessOptions extends GatewayOptions, ServeOptions {
  /** start the bridge first and stop it last (default true: the process owns its bridge) */
  ownsBridge?: boolean
  /** stop gracefully on SIGINT / SIGTERM (default true) */
  handleSignals?: boolean
}

export interface RunningGateway extends ServedGateway {
  readonly app: Hono<GatewayEnv>
  /** closes the server, then stops the bridge if the process owns it */
  stop(): Promise<void>
}

/**
 * The gateway as its own process: starts the bridge, serves the routes of the given service
 * definitions (their handlers run elsewhere, behind the bridge) and shuts down on signals.
 */
export async function runGatewayProcess(options: GatewayProcessOptions): Promise<RunningGateway> {
  const { bridge } = options
  const ownsBridge = options.ownsBridge ?? true
  const logger = (options.logger ?? bridge.logger).child({ component: 'http-gateway' })
  if (ownsBridge) await bridge.start()
  let served: ServedGateway
  let app: Hono<GatewayEnv>
  try {
    app = createGateway(options)
    served = await serveGateway(app, options)
  } catch (error) {
    if (ownsBridge) await bridge.stop()
    throw error
  }
  let stopping: Promise<void> | undefined
  const stop = () => {
    stopping ??= (async () => {
      logger.info('gateway stopping')
      await served.close()
      if (ownsBridge) await bridge.stop()
      logger.info('gateway stopped')
    })()
    return stopping
  }
  if (options.handleSignals ?? true) {
    const onSignal = (signal: NodeJS.Signals) => {
      logger.info({ signal }, 'signal received')
      stop().then(
        () => process.exit(0),
        (error) => {
          logger.error({ err: error }, 'gateway did not stop cleanly')
          process.exit(1)
        },
      )
    }
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
  }
  logger.info(
    { url: served.url, services: options.services.map((s) => `${s.name} v${s.version}`) },
    'gateway listening',
  )
  return { ...served, close: served.close, app, stop }
}
