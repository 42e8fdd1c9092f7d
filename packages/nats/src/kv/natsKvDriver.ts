import {
  type StateDriver,
  type StoreCapabilities,
  type StoreDriverEntry,
  type StoredEntry,
  supported,
  unsupported,
  type WriteOutcome,
} from '@conduit/core/transport'
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream'
import { NamespacedKeys } from './keyEncoding.js'
import { type BucketOptions, LazyBucket } from './lazyBucket.js'
import { listKeys } from './listKeys.js'

export const NATS_KV_STORE_NAME = 'nats-kv'

/** NATS's default `max_control_line`: the longest protocol line (and so subject) a server reads. */
const DEFAULT_MAX_CONTROL_LINE = 4096
/** writes of one setMany in flight at once */
const SET_MANY_WINDOW = 64

export interface NatsKvDriverOptions extends BucketOptions {
  /** keys of two namespaces in one bucket never see each other; default '' */
  namespace?: string
  /** the server's `max_control_line` if raised; it bounds the key length (default 4096) */
  maxControlLine?: number
}

const TTL_GAP = unsupported(
  'NATS KV expires keys only bucket-wide (max_age); per-message TTL needs nats-server 2.11, and this ' +
    'driver targets 2.9, so a per-key ttlMs cannot be honoured',
)

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** A KV revision names one write of one key: the stream sequence, unique in the bucket. */
function revisionOf(version: string): number | undefined {
  if (!/^[1-9]\d*$/.test(version)) return undefined
  const revision = Number(version)
  return Number.isSafeInteger(revision) ? revision : undefined
}

/** The server refused a write because the key's last revision was not the one named. */
function lostRace(error: unknown): boolean {
  return (
    error instanceof JetStreamApiError &&
    (error.code === JetStreamApiCodes.StreamWrongLastSequence ||
      error.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  )
}

async function unlessLost<T>(write: () => Promise<T>, lost: T): Promise<T> {
  try {
    return await write()
  } catch (error) {
    if (lostRace(error)) return lost
    throw error
  }
}

/**
 * The StateDriver on one NATS KV bucket. Versions are KV revisions: `ifVersion` maps to an
 * update expecting that revision, `ifVersion: null` to create (which the server refuses when the
 * key's last entry is a value; over a delete marker it writes, expecting that marker's revision),
 * and a conditional delete writes its marker expecting the revision.
 */
export function natsKvDriver(options: NatsKvDriverOptions): StateDriver {
  const bucket = new LazyBucket(options)
  const names = new NamespacedKeys(options.bucket, options.namespace ?? '')
  const maxKeyBytes = names.maxKeyBytes(options.maxControlLine ?? DEFAULT_MAX_CONTROL_LINE)
  const capabilities: StoreCapabilities = {
    conditionalWrites: supported,
    ttl: TTL_GAP,
    maxKeyBytes,
    // known for sure once connected: the server's max_payload, until then NATS's default
    get maxValueBytes() {
      return bucket.maxValueBytes
    },
  }
  const kv = async () => (await bucket.open()).kv

  return {
    name: NATS_KV_STORE_NAME,
    capabilities,

    async get(key): Promise<StoredEntry | undefined> {
      const entry = await (await kv()).get(names.kvKey(key))
      if (entry?.operation !== 'PUT') return undefined
      return { value: decoder.decode(entry.value), version: String(entry.revision) }
    },

    async set(key, value, { ifVersion }): Promise<WriteOutcome> {
      const bucketKv = await kv()
      const kvKey = names.kvKey(key)
      const data = encoder.encode(value)
      if (ifVersion === undefined) return { ok: true, version: String(await bucketKv.put(kvKey, data)) }
      const expected = ifVersion === null ? 0 : revisionOf(ifVersion)
      if (expected === undefined) return { ok: false }
      const write = () =>
        expected === 0 ? bucketKv.create(kvKey, data) : bucketKv.update(kvKey, data, expected)
      return unlessLost<WriteOutcome>(async () => ({ ok: true, version: String(await write()) }), {
        ok: false,
      })
    },

    async delete(key, { ifVersion }): Promise<boolean> {
      const bucketKv = await kv()
      const kvKey = names.kvKey(key)
      if (ifVersion === undefined) {
        // a missing key needs no delete marker
        if ((await bucketKv.get(kvKey))?.operation === 'PUT') await bucketKv.delete(kvKey)
        return true
      }
      const expected = revisionOf(ifVersion)
      if (expected === undefined) return false
      return unlessLost(async () => {
        await bucketKv.delete(kvKey, { previousSeq: expected })
        return true
      }, false)
    },

    /** Pipelined puts (KV has no batch write): `SET_MANY_WINDOW` in flight, not atomic. */
    async setMany(entries: readonly StoreDriverEntry[]): Promise<void> {
      const bucketKv = await kv()
      for (let start = 0; start < entries.length; start += SET_MANY_WINDOW) {
        await Promise.all(
          entries
            .slice(start, start + SET_MANY_WINDOW)
            .map((entry) => bucketKv.put(names.kvKey(entry.key), encoder.encode(entry.value))),
        )
      }
    },

    async *keys(prefix, pageSize) {
      yield* listKeys(await bucket.open(), names, prefix, pageSize)
    },

    close: () => bucket.close(),
  }
}
