import {
  type EventBridge,
  flushTelemetry,
  HealthMonitor,
  type InstanceOptions,
  type Logger,
  type ReadinessCheck,
  type Service,
  type ServiceInstance,
} from '@conduit/core'
import { createBridge } from './bridgeFromEnvironment.js'
import {
  type BridgeSettings,
  ConfigurationError,
  type Environment,
  EnvironmentReader,
  readBridgeSettings,
  readProcessSettings,
} from './environment.js'
import { type HealthServer, serveHealth, watchLiveness } from './healthServer.js'
import { createProcessLogger } from './logger.js'
import { onShutdownSignal } from './signals.js'
import { stopGracefully } from './stopGracefully.js'

/** Bound on exporting buffered spans and metrics before the process exits. */
const TELEMETRY_FLUSH_MS = 2_000

/** A service with the options of its instance (stores, config, logger). */
export interface ServiceToRun {
  service: Service
  options?: InstanceOptions
}

export interface HealthOptions {
  /** default CONDUIT_HEALTH_PORT, else 8081; 0 picks a free port */
  port?: number
  /** default CONDUIT_HEALTH_HOST, else `0.0.0.0` (probes come from outside the container) */
  hostname?: string
  /** further readiness checks for `/readyz` (a database, a downstream API), by name */
  checks?: Record<string, ReadinessCheck>
}

export interface RunServicesOptions {
  services: readonly (Service | ServiceToRun)[]
  /**
   * A bridge not yet started: the runner starts it first and stops it last. Default: the bridge
   * CONDUIT_BRIDGE names, built by `bridgeFromEnvironment()`. A bridge passed here keeps its own
   * `drainTimeout`; give it the same value as `drainTimeoutMs`.
   */
  bridge?: EventBridge
  /** the health server; `false` serves none (like CONDUIT_HEALTH_PORT=off) */
  health?: HealthOptions | false
  /** how long shutdown waits for handlers in flight, all services together; default CONDUIT_DRAIN_TIMEOUT_MS, else 10 s */
  drainTimeoutMs?: number
  /** default: the bridge's logger, else the JSON-line logger at CONDUIT_LOG_LEVEL */
  logger?: Logger
  /** where variables are read; default `process.env` */
  env?: Environment
  /**
   * true (default): shut down on SIGTERM/SIGINT and exit (0 after a clean shutdown); on a startup
   * failure, report it and exit 1. false: no signal handling and no exit; call `stop()`, and
   * startup failures are thrown (for tests, or a process that runs more than services).
   */
  ownsProcess?: boolean
}

export interface RunningServices {
  readonly bridge: EventBridge
  readonly instances: readonly ServiceInstance[]
  readonly health: HealthMonitor
  /** where `/healthz` and `/readyz` are served, if they are */
  readonly healthUrl: string | undefined
  /** The shutdown a signal starts, without the exit. Resolves true when every step was clean. */
  stop(reason?: string): Promise<boolean>
}

/**
 * Runs services as a process: the bridge and settings from options or environment variables
 * (docs/operations.md), `/healthz` and `/readyz`, then on SIGTERM or SIGINT readiness 503 at
 * once, intake stopped, one drain of every instance together within the drain timeout, bridge
 * disconnected, health server closed, exit 0. A second signal exits at once.
 */
export async function runServices(options: RunServicesOptions): Promise<RunningServices> {
  const ownsProcess = options.ownsProcess ?? true
  if (options.services.length === 0) throw new TypeError('runServices: no services given')
  const reader = new EnvironmentReader(options.env ?? process.env)
  const settings = readProcessSettings(reader)
  const bridgeSettings = options.bridge ? undefined : readBridgeSettings(reader)
  const drainTimeoutMs = options.drainTimeoutMs ?? settings.drainTimeoutMs
  const processLogger = options.logger ?? options.bridge?.logger ?? createProcessLogger(settings.logLevel)
  let bridge: EventBridge
  try {
    reader.throwIfInvalid()
    bridge =
      options.bridge ??
      (await createBridge(bridgeSettings!, { logger: processLogger, drainTimeout: drainTimeoutMs }))
  } catch (error) {
    if (ownsProcess && error instanceof ConfigurationError) exitMisconfigured(error)
    throw error
  }
  const logger = processLogger.child({ component: 'runner' })
  if (bridgeSettings) warnAboutDefaults(bridgeSettings, logger)

  let servicesStarted = false
  const health = new HealthMonitor(bridge, {
    ...(options.health ? options.health.checks : {}),
    services: () => servicesStarted,
  })
  const healthListen = healthListenOptions(options.health, settings.health)
  const instances: ServiceInstance[] = []
  let bridgeStarted = false
  let healthServer: HealthServer | undefined
  let stopWatchingLiveness = () => {}
  let signalled: NodeJS.Signals | undefined
  let stopping: Promise<boolean> | undefined

  const stop = (reason = 'stop requested') => {
    stopping ??= stopGracefully({
      reason,
      logger,
      health,
      instances,
      bridge: bridgeStarted ? bridge : undefined,
      healthServer,
      drainTimeoutMs,
      beforeHealthCloses: () => stopWatchingLiveness(),
    })
    return stopping
  }
  // What the OpenTelemetry SDK still buffers goes out before the process ends (bounded).
  const stopAndExit = (reason: string) =>
    void stop(reason)
      .then(async (clean) => {
        await flushTelemetry(TELEMETRY_FLUSH_MS, logger, 'the process exits without it')
        return clean
      })
      .then((clean) => process.exit(clean ? 0 : 1))
  const removeSignalListeners = ownsProcess
    ? onShutdownSignal(logger, (signal) => {
        signalled = signal
        logger.info({ signal }, 'signal received (a second one exits at once)')
        // During startup the shutdown waits until startup ends, so it stops what was started.
        if (servicesStarted) stopAndExit(`${signal} received`)
      })
    : () => {}

  try {
    await bridge.start()
    bridgeStarted = true
    logger.info({ bridge: bridge.name }, 'bridge connected')
    if (healthListen) {
      healthServer = await serveHealth(health, healthListen).catch((error: Error) => {
        throw new Error(
          `the health server could not listen on ${healthListen.hostname}:${healthListen.port} (${error.message}); set CONDUIT_HEALTH_PORT`,
          { cause: error },
        )
      })
      logger.info({ url: healthServer.url }, 'health server listening')
    }
    stopWatchingLiveness = watchLiveness(health, logger)
    for (const entry of options.services) {
      const { service, options: instanceOptions } = 'service' in entry ? entry : { service: entry }
      const instance = await service.getInstance(bridge, {
        ...(options.logger ? { logger: options.logger } : {}),
        ...instanceOptions,
      })
      instances.push(instance)
      await instance.start()
    }
    servicesStarted = true
  } catch (error) {
    logger.fatal({ err: error }, 'process could not start')
    await stop('startup failed')
    removeSignalListeners()
    if (ownsProcess) process.exit(1)
    throw error
  }

  logger.info(
    {
      services: instances.map(
        (instance) => `${instance.service.definition.name} v${instance.service.definition.version}`,
      ),
      bridge: bridge.name,
      health: healthServer?.url,
      drainTimeoutMs,
    },
    'process ready',
  )
  if (signalled) stopAndExit(`${signalled} received during startup`)
  return { bridge, instances, health, healthUrl: healthServer?.url, stop }
}

function healthListenOptions(
  option: HealthOptions | false | undefined,
  fromEnvironment: { port: number; hostname: string } | false,
): { port: number; hostname: string } | undefined {
  if (option === false) return undefined
  if (option?.port === undefined && fromEnvironment === false) return undefined
  const defaults = fromEnvironment || { port: 0, hostname: '0.0.0.0' }
  return { port: option?.port ?? defaults.port, hostname: option?.hostname ?? defaults.hostname }
}

function warnAboutDefaults(settings: BridgeSettings, logger: Logger): void {
  if (settings.kind === 'memory' && settings.kindDefaulted) {
    logger.warn(
      'CONDUIT_BRIDGE is not set: running on the in-memory bridge, which no other process can reach',
    )
  }
}

/** A misconfiguration is for a human to fix: say what, once, on stderr, and exit 1. */
function exitMisconfigured(error: ConfigurationError): never {
  process.stderr.write(`@conduit/runner: ${error.message}\n`)
  process.exit(1)
}
