export {
  DEFAULT_MAX_KEY_BYTES,
  DEFAULT_MAX_VALUE_BYTES,
  DEFAULT_POSTGRES_TABLE,
  POSTGRES_STORE_NAME,
  type PostgresStoreOptions,
} from './options.js'
export { type PostgresStateDriver, postgresStateDriver } from './postgresStateDriver.js'
export { postgresStoreSchema } from './schema.js'
export { postgresConfigStore, postgresStateStore } from './stores.js'
