import type { ConfigStore, StateStore } from '@conduit/core'
import { createConfigStore, createStateStore } from '@conduit/core/transport'
import { type NatsKvDriverOptions, natsKvDriver } from './kv/natsKvDriver.js'

export { NATS_KV_STORE_NAME, natsKvDriver } from './kv/natsKvDriver.js'

export interface NatsKvStoreOptions extends NatsKvDriverOptions {
  /** KV bucket name: letters, digits, '_' and '-'; created on first use if missing */
  bucket: string
  /** share a connection (e.g. `natsBridge.connection` after start); the store never closes it */
  connection?: NatsKvDriverOptions['connection']
  /** without a connection, the store opens its own on first use and closes it in `close()` */
  servers?: string | string[]
  /** settings used when the store creates the bucket */
  history?: number
  storage?: 'file' | 'memory'
  replicas?: number
}

export type NatsStateStore = StateStore

export interface NatsConfigStore extends ConfigStore {
  /** Closes the connection if the store opened it. */
  close(): Promise<void>
}

/** A StateStore on a NATS KV bucket: values as JSON, versions as KV revisions. */
export function createNatsStateStore(options: NatsKvStoreOptions): NatsStateStore {
  return createStateStore(natsKvDriver(options))
}

/** A ConfigStore on a NATS KV bucket (read-mostly values such as feature flags). */
export function createNatsConfigStore(options: NatsKvStoreOptions): NatsConfigStore {
  return createConfigStore(natsKvDriver(options))
}
