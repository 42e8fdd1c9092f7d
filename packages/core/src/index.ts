// Definitions (contracts, importable without handlers)

// The bridge contract and the protocol engine
export {
  type EmitOptions,
  EventBridge,
  type EventBridgeOptions,
  type InvokeOptions,
  type MessageOrigin,
  type Registration,
  type SubscriptionRegistration,
} from './bridge/EventBridge.js'
export { defineEvent } from './definitions/event.js'
export { consumerGroupOf } from './definitions/naming.js'
export {
  type CommandSpec,
  defineService,
  ServiceDefinition,
  type ServiceSpec,
  type SubscriptionSpec,
} from './definitions/service.js'
export type {
  AnyCommandDefinition,
  AnyEventDefinition,
  AnySubscriptionDefinition,
  CallOptions,
  CommandContext,
  CommandDefinition,
  CommandHandler,
  CommandHooks,
  CommandTypes,
  DeliveryMode,
  EventDefinition,
  HandlerContext,
  HookContext,
  HttpBinding,
  HttpMethod,
  Schema,
  ServiceRef,
  SubscriptionContext,
  SubscriptionDefinition,
  SubscriptionFilter,
  SubscriptionHandler,
  SubscriptionTypes,
  UndeclaredEmit,
  UndeclaredInvoke,
} from './definitions/types.js'
// Envelope (wire format v1; encoding and CloudEvents live on @conduit/core/transport)
export {
  commandAddressKey,
  type Envelope,
  type EnvelopeType,
  JSON_CONTENT_TYPE,
  type Receiver,
  type Sender,
  SPEC_VERSION,
} from './envelope/envelope.js'
// Errors
export {
  BridgeUnavailableError,
  CapabilityError,
  ConduitError,
  ConflictError,
  DefinitionError,
  HandledError,
  isConduitError,
  MalformedMessageError,
  NoHandlerError,
  PayloadTooLargeError,
  TimeoutError,
  UnhandledError,
  ValidationError,
  type ValidationIssue,
  type ValidationTarget,
} from './errors/errors.js'
export { errorFromWire, errorToWire, isWireError, type WireError } from './errors/wire.js'
export {
  DefaultEventBridge,
  MEMORY_BRIDGE_NAME,
  MemoryBridge,
  type MemoryBridgeOptions,
} from './memory/MemoryBridge.js'
// The in-memory bridge
export { MemoryBroker } from './memory/MemoryBroker.js'
export {
  assertEventName,
  assertEventPattern,
  assertIdentifier,
  compileEventPattern,
  isWildcardPattern,
} from './names.js'
export { flushTelemetry } from './observability/flush.js'
export {
  type CheckResult,
  HealthMonitor,
  type Liveness,
  type Readiness,
  type ReadinessCheck,
} from './observability/health.js'
// Observability
export { createDefaultLogger, type Logger } from './observability/logging.js'
export { parseTraceparent, traceIdOf } from './observability/tracing.js'
// Implementations and instances
export {
  type CommandImplementation,
  createService,
  handleCommand,
  handleSubscription,
  type Service,
  type ServiceImplementationSpec,
  type SubscriptionImplementation,
} from './service/implementation.js'
export { type InstanceOptions, ServiceInstance } from './service/ServiceInstance.js'
// Stores
export type {
  ConfigStore,
  SecretStore,
  StateEntry,
  StateStore,
  Stores,
  UpdateOptions,
} from './stores/contracts.js'
export type { StoreCapabilities, StoreDeleteOptions, StoreWriteOptions } from './stores/driver.js'
export { type EnvSecretStoreOptions, envSecretStore } from './stores/envSecretStore.js'
export {
  memoryConfigStore,
  memorySecretStore,
  memoryStateDriver,
  memoryStateStore,
  memoryStores,
} from './stores/memory.js'
export { createConfigStore, createStateStore } from './stores/stateStore.js'
export {
  assertCapabilities,
  type BridgeCapabilities,
  type Capability,
  type CapabilityName,
  requiredCapabilities,
} from './transport/capabilities.js'
// What a command address is (bridges and gateways name commands by it)
export type { CommandAddress, DestinationTarget } from './transport/port.js'
