import { ConduitError } from '@conduit/core'
import type { BulkItem, StateApi, TransactionOperation } from './stateApi.js'
import type { StoredKeys } from './storedKeys.js'

/** an index entry of a key that expired this long ago goes at the bucket's next write */
const PRUNE_AFTER_MS = 60_000
/** buckets read per request while listing */
const BUCKETS_PER_READ = 64

/** One bucket as read: its keys with their expiry (epoch ms, 0: none) and its ETag (none: missing). */
export interface Bucket {
  readonly index: number
  readonly etag: string | undefined
  readonly entries: Map<string, number>
}

/** Buckets read together, and the guard's ETag when one of them did not exist yet. */
export interface IndexSnapshot {
  readonly buckets: Map<number, Bucket>
  readonly guardEtag: string | undefined
}

function parseEntries(item: BulkItem): Map<string, number> {
  return new Map(Array.isArray(item.data) ? (item.data as [string, number][]) : [])
}

/**
 * Dapr's state API cannot list keys (only the alpha query API, which filters on values and
 * varies by component), so each namespace keeps its keys in `bucketCount` index buckets. Every
 * write of a key goes in one Dapr transaction with its bucket, conditional on the bucket's ETag:
 * the bucket lists exactly the live keys, and its ETag orders all writes of its keys, which is
 * what `ifVersion` and `ifVersion: null` rest on. A bucket that does not exist yet is created
 * conditional on the namespace's guard, a constant value, so two writers never both create it.
 */
export class KeyIndex {
  private guardChecked: Promise<void> | undefined

  constructor(
    private readonly api: StateApi,
    private readonly keys: StoredKeys,
  ) {}

  /**
   * Once per store: a namespace written with another bucket count would put keys in other
   * buckets, so a mismatch with the count the guard recorded is refused before anything else.
   */
  checkOnce(): Promise<void> {
    this.guardChecked ??= this.api.bulkGet([this.keys.guardKey]).then(([item]) => {
      if (item?.data !== undefined) this.checkBucketCount(item.data)
    })
    this.guardChecked.catch(() => {
      this.guardChecked = undefined
    })
    return this.guardChecked
  }

  /**
   * Reads buckets. For one that is missing, and only when the caller may create it (`forWrite`),
   * the guard's ETag too, then the bucket again: read in that order, a bucket created meanwhile is
   * either seen or has changed the guard.
   */
  async read(indexes: Iterable<number>, forWrite: boolean): Promise<IndexSnapshot> {
    const wanted = [...new Set(indexes)]
    const buckets = await this.readBuckets(wanted)
    const missing = wanted.filter((index) => buckets.get(index)?.etag === undefined)
    if (missing.length === 0 || !forWrite) return { buckets, guardEtag: undefined }
    const guardEtag = await this.guardEtag()
    for (const [index, bucket] of await this.readBuckets(missing)) buckets.set(index, bucket)
    return { buckets, guardEtag }
  }

  /** The bucket writes that make a transaction conditional on `snapshot` (every bucket in it). */
  operations(snapshot: IndexSnapshot, now = Date.now()): TransactionOperation[] {
    const operations: TransactionOperation[] = []
    for (const bucket of snapshot.buckets.values()) {
      const entries = [...bucket.entries].filter(
        ([, expiresAt]) => expiresAt === 0 || expiresAt + PRUNE_AFTER_MS > now,
      )
      const write = {
        key: this.keys.bucketKey(bucket.index),
        json: JSON.stringify(entries),
        ttlInSeconds: -1,
      }
      operations.push({ upsert: bucket.etag === undefined ? write : { ...write, etag: bucket.etag } })
    }
    if (snapshot.guardEtag !== undefined)
      operations.push({
        upsert: { key: this.keys.guardKey, json: this.guardJson, etag: snapshot.guardEtag, ttlInSeconds: -1 },
      })
    return operations
  }

  /** Whether two reads of the same buckets saw the same ETags (nothing was written between them). */
  static unchanged(before: IndexSnapshot, after: IndexSnapshot): boolean {
    if (before.guardEtag !== after.guardEtag) return false
    for (const [index, bucket] of before.buckets)
      if (after.buckets.get(index)?.etag !== bucket.etag) return false
    return true
  }

  /** Live keys starting with `prefix`, about `pageSize` at a time, a few buckets read at once. */
  async *pages(prefix: string, pageSize: number): AsyncGenerator<string[]> {
    let page: string[] = []
    for (let start = 0; start < this.keys.bucketCount; start += BUCKETS_PER_READ) {
      const indexes = Array.from(
        { length: Math.min(BUCKETS_PER_READ, this.keys.bucketCount - start) },
        (_, i) => start + i,
      )
      const now = Date.now()
      for (const bucket of (await this.readBuckets(indexes)).values()) {
        for (const [key, expiresAt] of bucket.entries) {
          if (!key.startsWith(prefix) || (expiresAt !== 0 && expiresAt <= now)) continue
          page.push(key)
          if (page.length >= pageSize) {
            yield page
            page = []
          }
        }
      }
    }
    if (page.length > 0) yield page
  }

  private async readBuckets(indexes: readonly number[]): Promise<Map<number, Bucket>> {
    const items = await this.api.bulkGet(indexes.map((index) => this.keys.bucketKey(index)))
    return new Map(
      items.map((item, i) => {
        const index = indexes[i]!
        return [
          index,
          { index, etag: item.data === undefined ? undefined : item.etag, entries: parseEntries(item) },
        ]
      }),
    )
  }

  private get guardJson(): string {
    return JSON.stringify({ buckets: this.keys.bucketCount })
  }

  /**
   * The guard's ETag, writing the guard first if it is missing. Its value never changes, so two
   * processes writing it at once do no harm: a writer holding an older ETag just tries again.
   */
  private async guardEtag(): Promise<string> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const [item] = await this.api.bulkGet([this.keys.guardKey])
      if (item?.data !== undefined && item.etag !== undefined) {
        this.checkBucketCount(item.data)
        return item.etag
      }
      await this.api.save({ key: this.keys.guardKey, json: this.guardJson, ttlInSeconds: -1 })
    }
    throw new ConduitError(
      503,
      'DAPR_STATE_FAILED',
      `the key-index guard ${this.keys.guardKey} could not be read back`,
      true,
    )
  }

  private checkBucketCount(data: unknown): void {
    const recorded = (data as { buckets?: unknown }).buckets
    if (recorded !== this.keys.bucketCount) {
      throw new ConduitError(
        500,
        'INVALID_OPTION',
        `this namespace's key index has ${String(recorded)} buckets; the store was configured with ` +
          `indexBuckets: ${this.keys.bucketCount} (it cannot change once keys are written)`,
        false,
      )
    }
  }
}
