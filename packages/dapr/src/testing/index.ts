// @conduit/dapr/testing: an emulator of the Dapr sidecar's documented HTTP API, for tests. It is
// not Dapr (see DaprEmulator); the package's runtime entry never imports it.
export { CLOUD_EVENT_CONTENT_TYPE } from './cloudEvents.js'
export { DaprEmulator, type DaprEmulatorOptions } from './DaprEmulator.js'
export { deliveryPath, type SubscriptionEntry, verdictOf } from './pubsub.js'
export { EmulatedSidecar, type SidecarConfig } from './Sidecar.js'
