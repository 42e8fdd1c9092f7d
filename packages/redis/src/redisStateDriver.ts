import { randomBytes } from 'node:crypto'
import type { StateDriver, StoredEntry, StoreWriteOptions, WriteOutcome } from '@conduit/core/transport'
import { supported } from '@conduit/core/transport'
import { type RedisCommandClient, redisConnection } from './connection.js'
import { keyspace } from './keyspace.js'
import { REDIS_STORE_NAME, type RedisStoreOptions, resolveOptions } from './options.js'
import { DELETE_ENTRY, runScript, SET_ENTRY } from './scripts.js'

export interface RedisStateDriver extends StateDriver {
  /** the node-redis client: the given one, or the store's own (opened by this call if need be) */
  getInstance(): RedisCommandClient
  close(): Promise<void>
}

// Versions are unique per write, not per key: a key deleted and written again never repeats a
// version a reader may still hold, so a stale conditional write cannot succeed (no ABA). A
// random writer id (72 bits) keeps processes apart; a counter keeps this one's writes apart.
const WRITER = randomBytes(9).toString('base64url')
let writes = 0
function nextVersion(): string {
  writes += 1
  return `${WRITER}.${writes.toString(36)}`
}

/**
 * The Redis StateDriver. Each entry is a hash `<namespace>:<key>` = { v: JSON, ver: version };
 * conditional writes are Lua scripts (check and write in one atomic step), batches are MULTI,
 * listings are SCAN with an escaped MATCH pattern.
 */
export function redisStateDriver(options: RedisStoreOptions): RedisStateDriver {
  const { namespace, maxKeyBytes, maxValueBytes } = resolveOptions(options)
  const connection = redisConnection(options)
  const space = keyspace(namespace)

  return {
    name: REDIS_STORE_NAME,
    capabilities: Object.freeze({ conditionalWrites: supported, ttl: supported, maxKeyBytes, maxValueBytes }),

    getInstance: () => connection.client(),

    get(key) {
      return connection.run(async (client) =>
        entry(await client.sendCommand(['HMGET', space.toRedis(key), 'v', 'ver'])),
      )
    },

    set(key, value, writeOptions) {
      return connection.run(async (client): Promise<WriteOutcome> => {
        const version = nextVersion()
        const written = await runScript(
          client,
          SET_ENTRY,
          [space.toRedis(key)],
          [
            value,
            version,
            ...condition(writeOptions),
            writeOptions.ttlMs === undefined ? '' : String(writeOptions.ttlMs),
          ],
        )
        return Number(written) === 1 ? { ok: true, version } : { ok: false }
      })
    },

    delete(key, { ifVersion }) {
      return connection.run(async (client) => {
        if (ifVersion === undefined) {
          await client.sendCommand(['DEL', space.toRedis(key)])
          return true
        }
        return Number(await runScript(client, DELETE_ENTRY, [space.toRedis(key)], [ifVersion])) === 1
      })
    },

    // One MULTI: a single round trip, and every value read at the same instant.
    getMany(keys) {
      if (keys.length === 0) return Promise.resolve([])
      return connection.run(async (client) => {
        const transaction = client.multi()
        for (const key of keys) transaction.addCommand(['HMGET', space.toRedis(key), 'v', 'ver'])
        return (await transaction.exec()).map(entry)
      })
    },

    // One MULTI: a single round trip, and other clients see all the writes or none.
    async setMany(entries) {
      if (entries.length === 0) return
      await connection.run(async (client) => {
        const transaction = client.multi()
        for (const { key, value, ttlMs } of entries) {
          const redisKey = space.toRedis(key)
          transaction.addCommand(['HSET', redisKey, 'v', value, 'ver', nextVersion()])
          transaction.addCommand(
            ttlMs === undefined ? ['PERSIST', redisKey] : ['PEXPIRE', redisKey, String(ttlMs)],
          )
        }
        await transaction.exec()
      })
    },

    /**
     * SCAN walks the whole database, COUNT buckets a call, and filters by the pattern on the
     * server; pages are filled from as many calls as it takes. SCAN never lists an expired key
     * and lists every key present throughout at least once; it repeats a key only when Redis
     * shrinks its key table during the listing (after mass deletions): see docs/stores/redis.md.
     */
    async *keys(prefix, pageSize) {
      const pattern = space.matching(prefix)
      let cursor = '0'
      let page: string[] = []
      do {
        const [next, found] = (await connection.run((client) =>
          client.sendCommand(['SCAN', cursor, 'MATCH', pattern, 'COUNT', String(pageSize)]),
        )) as [unknown, unknown[]]
        cursor = text(next) ?? '0'
        for (const redisKey of found) page.push(space.fromRedis(text(redisKey) ?? ''))
        if (page.length >= pageSize) {
          yield page
          page = []
        }
      } while (cursor !== '0')
      if (page.length > 0) yield page
    },

    close: () => connection.close(),
  }
}

/** The script's condition arguments: kind and expected version. */
function condition({ ifVersion }: StoreWriteOptions): [string, string] {
  if (ifVersion === undefined) return ['', '']
  if (ifVersion === null) return ['absent', '']
  return ['version', ifVersion]
}

/** An HMGET reply [v, ver] as an entry; a missing (or expired) key has neither. */
function entry(reply: unknown): StoredEntry | undefined {
  const [value, version] = reply as [unknown, unknown]
  const valueText = text(value)
  const versionText = text(version)
  return valueText === undefined || versionText === undefined
    ? undefined
    : { value: valueText, version: versionText }
}

/** A bulk string reply; a client with a type mapping may hand it over as a Buffer. */
function text(reply: unknown): string | undefined {
  if (typeof reply === 'string') return reply
  if (Buffer.isBuffer(reply)) return reply.toString('utf8')
  return undefined
}
