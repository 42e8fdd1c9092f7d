export { type BridgeFromEnvironmentOptions, bridgeFromEnvironment } from './bridgeFromEnvironment.js'
export {
  BRIDGE_KINDS,
  type BridgeKind,
  ConfigurationError,
  DEFAULT_DRAIN_TIMEOUT_MS,
  DEFAULT_HEALTH_HOST,
  DEFAULT_HEALTH_PORT,
  type Environment,
} from './environment.js'
export { type HealthServer, type HealthServerOptions, serveHealth } from './healthServer.js'
export {
  type HealthOptions,
  type RunningServices,
  type RunServicesOptions,
  runServices,
  type ServiceToRun,
} from './runServices.js'
export { DISCONNECT_TIMEOUT_MS } from './stopGracefully.js'
