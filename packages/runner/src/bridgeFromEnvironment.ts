import { DefaultEventBridge, type EventBridge, type EventBridgeOptions, type Logger } from '@conduit/core'
import {
  type BridgeKind,
  type BridgeSettings,
  ConfigurationError,
  type Environment,
  EnvironmentReader,
  readBridgeSettings,
  readDrainTimeout,
  readLogLevel,
} from './environment.js'
import { createProcessLogger } from './logger.js'

export interface BridgeFromEnvironmentOptions {
  /** default `process.env` */
  env?: Environment
  /** default: the JSON-line logger at CONDUIT_LOG_LEVEL */
  logger?: Logger
  /** how long the bridge's stop() waits for handlers in flight; default CONDUIT_DRAIN_TIMEOUT_MS or 10 s */
  drainTimeoutMs?: number
}

/** Loads a package by name; replaced in tests to play a missing package. */
export type PackageImporter = (packageName: string) => Promise<unknown>

// A specifier in a variable: bundlers leave it alone, so an uninstalled bridge package is an
// error only for the process that chooses that bridge, never at build time.
const importPackage: PackageImporter = (packageName) => import(packageName)

/**
 * The bridge named by CONDUIT_BRIDGE (default `memory`), configured from the environment
 * (see docs/operations.md, "Environment variables"). Bridge packages are optional peers: only
 * the chosen one is imported. Not started: the caller starts and stops it.
 * Throws a ConfigurationError naming each bad variable, or the package to install.
 */
export async function bridgeFromEnvironment(
  options: BridgeFromEnvironmentOptions = {},
): Promise<EventBridge> {
  const reader = new EnvironmentReader(options.env ?? process.env)
  const settings = readBridgeSettings(reader)
  const drainTimeout = options.drainTimeoutMs ?? readDrainTimeout(reader)
  const logger = options.logger ?? createProcessLogger(readLogLevel(reader))
  reader.throwIfInvalid()
  return createBridge(settings, { logger, drainTimeout })
}

/** Builds the bridge `settings` describe, importing its package only now. */
export async function createBridge(
  settings: BridgeSettings,
  common: EventBridgeOptions,
  importer: PackageImporter = importPackage,
): Promise<EventBridge> {
  const prefix = settings.prefix === undefined ? {} : { prefix: settings.prefix }
  switch (settings.kind) {
    case 'memory':
      return new DefaultEventBridge(common)
    case 'nats': {
      const { NatsBridge } = await importBridgePackage<typeof import('@conduit/nats')>('nats', importer)
      return new NatsBridge({
        ...common,
        ...prefix,
        servers: settings.servers,
        ...(settings.ackWaitMs === undefined ? {} : { durable: { ackWaitMs: settings.ackWaitMs } }),
      })
    }
    case 'amqp': {
      const { AmqpBridge } = await importBridgePackage<typeof import('@conduit/amqp')>('amqp', importer)
      return new AmqpBridge({ ...common, ...prefix, url: settings.url })
    }
    case 'mqtt': {
      const { MqttBridge } = await importBridgePackage<typeof import('@conduit/mqtt')>('mqtt', importer)
      return new MqttBridge({ ...common, ...prefix, url: settings.url })
    }
    case 'dapr': {
      const { DaprBridge } = await importBridgePackage<typeof import('@conduit/dapr')>('dapr', importer)
      const { kind: _kind, kindDefaulted: _defaulted, prefix: topicPrefix, ...dapr } = settings
      const defined = Object.fromEntries(Object.entries(dapr).filter(([, value]) => value !== undefined))
      return new DaprBridge({ ...common, ...defined, ...(topicPrefix === undefined ? {} : { topicPrefix }) })
    }
  }
}

/** `@conduit/<kind>`, or a ConfigurationError saying which package to install. */
export async function importBridgePackage<Module>(
  kind: Exclude<BridgeKind, 'memory'>,
  importer: PackageImporter = importPackage,
): Promise<Module> {
  const packageName = `@conduit/${kind}`
  try {
    return (await importer(packageName)) as Module
  } catch (error) {
    const { code, message } = error as { code?: unknown; message?: unknown }
    // A missing dependency of the package itself has the same code but names another package.
    if (code === 'ERR_MODULE_NOT_FOUND' && String(message).includes(`'${packageName}'`)) {
      throw new ConfigurationError([
        `CONDUIT_BRIDGE=${kind} needs the ${packageName} package, which is not installed: npm install ${packageName}`,
      ])
    }
    throw error
  }
}
