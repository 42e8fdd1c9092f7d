import { randomBytes } from 'node:crypto'
import { ConduitError } from '@conduit/core'
import {
  type StateDriver,
  type StoreCapabilities,
  type StoreDriverEntry,
  type StoredEntry,
  supported,
  type WriteOutcome,
} from '@conduit/core/transport'
import { BucketLocks } from './bucketLocks.js'
import { isLive, type Unwrapped, unwrap, wrap } from './envelope.js'
import { type IndexSnapshot, KeyIndex } from './keyIndex.js'
import type { StateApi, TransactionOperation } from './stateApi.js'
import type { StoredKeys } from './storedKeys.js'

export const DAPR_STATE_STORE_NAME = 'dapr'

/** tries of one write while writes of other keys in its bucket keep changing the bucket */
const MAX_TRIES = 100
/** keys read by one bulk get, and written by one transaction of setMany */
const KEYS_PER_REQUEST = 100
const KEYS_PER_TRANSACTION = 50

export interface DaprStateDriverParts {
  readonly api: StateApi
  readonly keys: StoredKeys
  readonly maxKeyBytes: number
  readonly maxValueBytes: number
  close(): Promise<void>
}

type Decision<T> =
  | { readonly decided: T }
  | { readonly operations: TransactionOperation[]; readonly result: T }

function newVersion(): string {
  return randomBytes(12).toString('base64url')
}

function pause(tries: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(20, 2 * tries)))
}

/**
 * The StateDriver on Dapr's state API. Values travel in an envelope carrying the driver's own
 * version (Dapr returns no ETag from a write) and exact expiry; writes go in one transaction with
 * the key's index bucket, conditional on its ETag (see keyIndex.ts), which makes `ifVersion`,
 * `ifVersion: null` and conditional deletes atomic and keeps `keys()` exact.
 */
export function daprStateDriver(parts: DaprStateDriverParts): StateDriver {
  const { api, keys } = parts
  const index = new KeyIndex(api, keys)
  const locks = new BucketLocks()
  const capabilities: StoreCapabilities = {
    conditionalWrites: supported,
    // exact to the millisecond through the envelope; Dapr removes the value after whole seconds
    ttl: supported,
    maxKeyBytes: parts.maxKeyBytes,
    maxValueBytes: parts.maxValueBytes,
  }

  async function readValues(wanted: readonly string[]): Promise<(Unwrapped | undefined)[]> {
    const found: (Unwrapped | undefined)[] = []
    for (let start = 0; start < wanted.length; start += KEYS_PER_REQUEST) {
      const stored = wanted.slice(start, start + KEYS_PER_REQUEST).map((key) => keys.valueKey(key))
      for (const item of await api.bulkGet(stored))
        found.push(item.data === undefined ? undefined : unwrap(item.data, item.key))
    }
    return found
  }

  async function readLive(key: string): Promise<Unwrapped | undefined> {
    const [entry] = await readValues([key])
    return entry !== undefined && isLive(entry) ? entry : undefined
  }

  function valueWrite(key: string, json: string, version: string, ttlMs?: number, expiresAt?: number) {
    const ttlInSeconds = ttlMs === undefined ? -1 : Math.ceil(ttlMs / 1000)
    return { upsert: { key: keys.valueKey(key), json: wrap(json, version, expiresAt), ttlInSeconds } }
  }

  /**
   * Reads the buckets, lets `decide` settle the outcome or name the writes, and runs them with
   * the bucket writes in one transaction. A transaction that failed is tried again only if a
   * bucket changed since it was read (it lost to another writer); otherwise it failed for
   * another reason, which is raised.
   */
  async function conditional<T>(
    what: string,
    buckets: number[],
    forWrite: boolean,
    decide: (snapshot: IndexSnapshot) => Promise<Decision<T>>,
  ): Promise<T> {
    await index.checkOnce()
    return locks.run(buckets, () => writeLoop(what, buckets, forWrite, decide))
  }

  async function writeLoop<T>(
    what: string,
    buckets: number[],
    forWrite: boolean,
    decide: (snapshot: IndexSnapshot) => Promise<Decision<T>>,
  ): Promise<T> {
    let lost: { snapshot: IndexSnapshot; why: string } | undefined
    for (let tries = 1; tries <= MAX_TRIES; tries++) {
      const snapshot = await index.read(buckets, forWrite)
      if (lost && KeyIndex.unchanged(lost.snapshot, snapshot))
        throw new ConduitError(
          503,
          'DAPR_STATE_FAILED',
          `Dapr state store ${api.storeName}: ${what} failed (${lost.why})`,
          true,
        )
      const decision = await decide(snapshot)
      if ('decided' in decision) return decision.decided
      const outcome = await api.transact([...decision.operations, ...index.operations(snapshot)])
      if (outcome.ok) return decision.result
      lost = { snapshot, why: outcome.why }
      await pause(tries)
    }
    throw new ConduitError(
      503,
      'DAPR_STATE_BUSY',
      `Dapr state store ${api.storeName}: ${what} lost to other writes in its key-index bucket ${MAX_TRIES} times`,
      true,
    )
  }

  return {
    name: DAPR_STATE_STORE_NAME,
    capabilities,

    async get(key): Promise<StoredEntry | undefined> {
      const entry = await readLive(key)
      return entry && { value: entry.value, version: entry.version }
    },

    async getMany(wanted) {
      const now = Date.now()
      return (await readValues(wanted)).map((entry) =>
        entry !== undefined && isLive(entry, now)
          ? { value: entry.value, version: entry.version }
          : undefined,
      )
    },

    set(key, value, { ifVersion, ttlMs }): Promise<WriteOutcome> {
      const version = newVersion()
      const expiresAt = ttlMs === undefined ? undefined : Date.now() + ttlMs
      const bucketIndex = keys.bucketOf(key)
      return conditional<WriteOutcome>(`writing ${key}`, [bucketIndex], true, async (snapshot) => {
        const bucket = snapshot.buckets.get(bucketIndex)!
        if (ifVersion !== undefined) {
          // the bucket was read first: a write of the key after this read changes the bucket
          const current = bucket.entries.has(key) ? await readLive(key) : undefined
          const holds = ifVersion === null ? current === undefined : current?.version === ifVersion
          if (!holds) return { decided: { ok: false } }
        }
        bucket.entries.set(key, expiresAt ?? 0)
        return {
          operations: [valueWrite(key, value, version, ttlMs, expiresAt)],
          result: { ok: true, version },
        }
      })
    },

    delete(key, { ifVersion }): Promise<boolean> {
      const bucketIndex = keys.bucketOf(key)
      return conditional<boolean>(`deleting ${key}`, [bucketIndex], false, async (snapshot) => {
        const bucket = snapshot.buckets.get(bucketIndex)!
        if (!bucket.entries.has(key)) return { decided: ifVersion === undefined }
        if (ifVersion !== undefined && (await readLive(key))?.version !== ifVersion) return { decided: false }
        bucket.entries.delete(key)
        return { operations: [{ delete: keys.valueKey(key) }], result: true }
      })
    },

    async setMany(entries: readonly StoreDriverEntry[]): Promise<void> {
      for (let start = 0; start < entries.length; start += KEYS_PER_TRANSACTION) {
        const chunk = entries.slice(start, start + KEYS_PER_TRANSACTION).map((entry) => ({
          ...entry,
          bucket: keys.bucketOf(entry.key),
          expiresAt: entry.ttlMs === undefined ? undefined : Date.now() + entry.ttlMs,
        }))
        await conditional(
          `writing ${chunk.length} keys`,
          chunk.map((entry) => entry.bucket),
          true,
          async (snapshot) => {
            for (const entry of chunk)
              snapshot.buckets.get(entry.bucket)!.entries.set(entry.key, entry.expiresAt ?? 0)
            const operations = chunk.map((entry) =>
              valueWrite(entry.key, entry.value, newVersion(), entry.ttlMs, entry.expiresAt),
            )
            return { operations, result: undefined }
          },
        )
      }
    },

    async *keys(prefix, pageSize) {
      await index.checkOnce()
      yield* index.pages(prefix, pageSize)
    },

    close: parts.close,
  }
}
