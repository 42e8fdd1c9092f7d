import { ConduitError, type ConfigStore, type StateStore } from '@conduit/core'
import { StorageType } from '@nats-io/jetstream'
import { type KV, Kvm } from '@nats-io/kv'
import { connect, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node'
import { DEFAULT_NATS_SERVERS } from './options.js'

export const NATS_KV_STORE_NAME = 'nats-kv'

export interface NatsKvStoreOptions {
  /** KV bucket name: letters, digits, '_' and '-'; created on first use if missing */
  bucket: string
  /** share a connection (e.g. `natsBridge.connection` after start); the store never closes it */
  connection?: NatsConnection
  /** without a connection, the store opens its own on first use */
  servers?: string | string[]
  connectionOptions?: Omit<NodeConnectionOptions, 'servers'>
  /** settings used when the store creates the bucket */
  history?: number
  storage?: 'file' | 'memory'
  replicas?: number
}

export interface NatsStateStore extends StateStore {
  /** Closes the connection if the store opened it. */
  close(): Promise<void>
}

export interface NatsConfigStore extends ConfigStore {
  close(): Promise<void>
}

const BUCKET = /^[A-Za-z0-9_-]+$/
const PLAIN_KEY_CHAR = /[A-Za-z0-9_/-]/

/**
 * KV keys allow only `[-/_=.A-Za-z0-9]` and treat '.' as a token separator, while store keys are
 * any string (`user:42`). Letters, digits, '_', '-' and '/' stay; everything else (including
 * '.') becomes `=` and its UTF-8 bytes in hex. The mapping is reversible and keeps prefixes, so
 * `keys(prefix)` can compare encoded keys. The empty key is `=` alone.
 */
export function encodeKey(key: string): string {
  if (key === '') return '='
  let encoded = ''
  for (const char of key) {
    if (PLAIN_KEY_CHAR.test(char)) encoded += char
    else
      for (const byte of Buffer.from(char, 'utf8'))
        encoded += `=${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return encoded
}

export function decodeKey(encoded: string): string {
  if (encoded === '=') return ''
  const bytes: number[] = []
  for (let index = 0; index < encoded.length; index++) {
    if (encoded[index] === '=') {
      bytes.push(Number.parseInt(encoded.slice(index + 1, index + 3), 16))
      index += 2
    } else {
      bytes.push(encoded.charCodeAt(index))
    }
  }
  return Buffer.from(bytes).toString('utf8')
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** One lazily opened bucket and the connection behind it. */
function openBucket(options: NatsKvStoreOptions): { kv(): Promise<KV>; close(): Promise<void> } {
  if (!BUCKET.test(options.bucket)) {
    throw new ConduitError(
      500,
      'INVALID_OPTION',
      `Invalid NATS KV bucket ${JSON.stringify(options.bucket)}: use letters, digits, '_' or '-'`,
      false,
    )
  }
  let ownConnection: NatsConnection | undefined
  let opening: Promise<KV> | undefined
  const open = async (): Promise<KV> => {
    let nc = options.connection
    if (!nc) {
      ownConnection = await connect({
        ...options.connectionOptions,
        servers: options.servers ?? DEFAULT_NATS_SERVERS,
      })
      nc = ownConnection
    }
    return new Kvm(nc).create(options.bucket, {
      ...(options.history === undefined ? {} : { history: options.history }),
      ...(options.replicas === undefined ? {} : { replicas: options.replicas }),
      storage: options.storage === 'memory' ? StorageType.Memory : StorageType.File,
    })
  }
  return {
    kv() {
      opening ??= open().catch((error) => {
        opening = undefined
        throw error
      })
      return opening
    },
    async close() {
      opening = undefined
      await ownConnection?.drain()
      ownConnection = undefined
    },
  }
}

async function readValue<T>(kv: KV, key: string): Promise<T | undefined> {
  const entry = await kv.get(encodeKey(key))
  if (entry?.operation !== 'PUT' || entry.value.length === 0) return undefined
  return JSON.parse(decoder.decode(entry.value)) as T
}

async function writeValue(kv: KV, key: string, value: unknown): Promise<void> {
  // undefined is "no value", as in the in-memory store: the key goes away
  if (value === undefined) await kv.delete(encodeKey(key))
  else await kv.put(encodeKey(key), encoder.encode(JSON.stringify(value)))
}

/** A StateStore on a NATS KV bucket; values are stored as JSON. */
export function createNatsStateStore(options: NatsKvStoreOptions): NatsStateStore {
  const bucket = openBucket(options)
  return {
    name: NATS_KV_STORE_NAME,
    async get<T>(key: string) {
      return readValue<T>(await bucket.kv(), key)
    },
    async set(key, value) {
      await writeValue(await bucket.kv(), key, value)
    },
    async delete(key) {
      await (await bucket.kv()).delete(encodeKey(key))
    },
    async keys(prefix = '') {
      const encodedPrefix = prefix === '' ? '' : encodeKey(prefix)
      const keys: string[] = []
      for await (const encoded of await (await bucket.kv()).keys()) {
        if (encoded.startsWith(encodedPrefix)) keys.push(decodeKey(encoded))
      }
      return keys
    },
    close: bucket.close,
  }
}

/** A ConfigStore on a NATS KV bucket (read-mostly values such as feature flags). */
export function createNatsConfigStore(options: NatsKvStoreOptions): NatsConfigStore {
  const bucket = openBucket(options)
  return {
    name: NATS_KV_STORE_NAME,
    async get<T>(key: string) {
      return readValue<T>(await bucket.kv(), key)
    },
    async set(key, value) {
      await writeValue(await bucket.kv(), key, value)
    },
    close: bucket.close,
  }
}
