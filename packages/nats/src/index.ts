export {
  ATTEMPTS_HEADER,
  DEAD_LETTER_REASON_HEADER,
  ORIGINAL_SUBJECT_HEADER,
  STUB_HEADER,
} from './DeadLetters.js'
export {
  createNatsConfigStore,
  createNatsStateStore,
  NATS_KV_STORE_NAME,
  type NatsConfigStore,
  type NatsKvStoreOptions,
  type NatsStateStore,
  natsKvDriver,
} from './kv.js'
export { NatsBridge } from './NatsBridge.js'
export { createNatsTransport, type NatsTransport } from './NatsTransport.js'
export {
  DEFAULT_NATS_PREFIX,
  DEFAULT_NATS_SERVERS,
  NATS_BRIDGE_NAME,
  type NatsBridgeOptions,
  type NatsDurableOptions,
} from './options.js'
export { escapeName, InvalidSubjectNameError, NatsSubjects } from './subjects.js'
