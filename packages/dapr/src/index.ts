export { daprCapabilities } from './capabilities.js'
export { DaprBridge } from './DaprBridge.js'
export {
  DAPR_SECRET_STORE_NAME,
  type DaprSecretStore,
  type DaprSecretStoreOptions,
  daprSecretStore,
} from './DaprSecretStore.js'
export {
  DAPR_STATE_STORE_NAME,
  type DaprSidecarOptions,
  type DaprStateStore,
  type DaprStateStoreOptions,
  daprStateStore,
} from './DaprStateStore.js'
export type { DaprStatus } from './eventDelivery.js'
export {
  type AppIdMapping,
  DAPR_BRIDGE_NAME,
  DAPR_DEFAULT_MAX_BODY_BYTES,
  type DaprBridgeOptions,
  type DaprTransportOptions,
  defaultAppIdOf,
} from './options.js'
export { commandMethod, deadLetterTopic, eventRoute, eventTopic } from './routes.js'
export type { DaprSubscription } from './TopicSubscriptions.js'
export { createDaprTransport, type DaprTransport } from './transport.js'
