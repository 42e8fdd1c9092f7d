// @conduit/core/transport: the face for people writing bridges. Service authors use the root.

export { DEAD_LETTER_HEADROOM_BYTES, MAX_REASON_LENGTH } from '../bridge/deadLetterRecord.js'
export { EventBridge, type EventBridgeOptions } from '../bridge/EventBridge.js'
export { type CloudEvent, fromCloudEvent, toCloudEvent } from '../envelope/cloudevents.js'
export { decodeEnvelope, ENVELOPE_LIMITS, encodeEnvelope, validateEnvelope } from '../envelope/codec.js'
// The in-process transport, for bridges and tests that wrap or adjust it
export { createMemoryTransport, memoryCapabilities } from '../memory/MemoryBridge.js'
// Store drivers (Redis, PostgreSQL, NATS KV, Dapr): the port they implement
export type {
  StateDriver,
  StoreCapabilities,
  StoreDeleteOptions,
  StoreDriverEntry,
  StoredEntry,
  StoreWriteOptions,
  WriteOutcome,
} from '../stores/driver.js'
export { createConfigStore, createStateStore } from '../stores/stateStore.js'
export {
  type BridgeCapabilities,
  type Capability,
  type CapabilityName,
  supported,
  unsupported,
} from './capabilities.js'
export type {
  CommandAddress,
  CommandReceiver,
  DeadLetterRecord,
  Delivery,
  DeliveryOutcome,
  DestinationTarget,
  EventListenerSpec,
  EventReceiver,
  OutboundMessage,
  RawMessage,
  RefusedReply,
  ReplySender,
  Transport,
  TransportHost,
  TransportListener,
} from './port.js'
export { serverAddressOf } from './serverAddress.js'
