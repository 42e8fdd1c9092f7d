export { CLOUD_EVENT_CONTENT_TYPE } from './cloudEvents.js'
export { DaprEmulator, type DaprEmulatorOptions } from './DaprEmulator.js'
export { deliveryPath, type SubscriptionEntry, verdictOf } from './pubsub.js'
export { EmulatedSidecar, type SidecarConfig } from './Sidecar.js'
