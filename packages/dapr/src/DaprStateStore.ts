import { setTimeout as sleep } from 'node:timers/promises'
import { ConduitError, type StateStore } from '@conduit/core'
import { resolveDaprOptions } from './options.js'
import { describeDaprError, SidecarClient, type SidecarResponse } from './SidecarClient.js'

export const DAPR_STATE_STORE_NAME = 'dapr'

export interface DaprSidecarOptions {
  /** default `127.0.0.1` */
  daprHost?: string
  /** default `DAPR_HTTP_PORT` or 3500 */
  daprHttpPort?: number
  /** default `DAPR_API_TOKEN` */
  daprApiToken?: string
}

export interface DaprStateStoreOptions extends DaprSidecarOptions {
  /** the state store component (`metadata.name` in its YAML); default `statestore` */
  storeName?: string
  /**
   * Dapr's state API cannot list keys. With an index (the default) the store keeps the list of
   * its keys under this key, updated in the same Dapr transaction as the value, with an ETag
   * (first-write); that needs a transactional state store (Redis, PostgreSQL, ...). `false`
   * turns it off and keys() fails.
   */
  keyIndex?: string | false
  /** how often a write retries when another process changed the index meanwhile; default 50 */
  maxIndexRetries?: number
}

export interface DaprStateStore extends StateStore {
  close(): Promise<void>
}

interface BulkItem {
  key: string
  data?: unknown
  etag?: string
}

const JSON_HEADERS = { 'content-type': 'application/json' }

/** A core StateStore over the sidecar's state API (`/v1.0/state/<store>`). */
export function daprStateStore(options: DaprStateStoreOptions = {}): DaprStateStore {
  const resolved = resolveDaprOptions(options)
  const sidecar = new SidecarClient(resolved.daprBaseUrl, resolved.daprApiToken)
  const store = encodeURIComponent(options.storeName ?? 'statestore')
  const indexKey = options.keyIndex === undefined ? 'conduit.keys' : options.keyIndex
  const maxRetries = options.maxIndexRetries ?? 50

  function fail(what: string, response: SidecarResponse): never {
    throw new ConduitError(
      response.status === 400 ? 500 : 503,
      'DAPR_STATE_FAILED',
      `Dapr state store ${decodeURIComponent(store)}: ${what} failed (${describeDaprError(response)})`,
      response.status !== 400,
    )
  }

  async function readIndex(): Promise<{ keys: string[]; etag: string | undefined }> {
    const response = await sidecar.request({
      method: 'POST',
      path: `/v1.0/state/${store}/bulk`,
      body: JSON.stringify({ keys: [indexKey] }),
      headers: JSON_HEADERS,
    })
    if (response.status !== 200) fail('reading the key index', response)
    const [item] = JSON.parse(response.body.toString('utf8')) as BulkItem[]
    return { keys: Array.isArray(item?.data) ? (item.data as string[]) : [], etag: item?.etag }
  }

  /**
   * Applies `operation` to `key` in one transaction with the index change, retrying (with a
   * little jitter) when another process changed the index meanwhile. Dapr has no "insert if
   * absent": the write that creates the index carries no ETag, so it is checked afterwards.
   */
  async function writeWithIndex(key: string, operation: object, change: (keys: Set<string>) => boolean) {
    for (let attempt = 0; attempt <= maxRetries; attempt++) {
      if (attempt > 0) await sleep(Math.random() * Math.min(50, 2 * attempt))
      const index = await readIndex()
      const keys = new Set(index.keys)
      const operations: object[] = [operation]
      const changed = change(keys)
      if (changed) {
        const request: Record<string, unknown> = { key: indexKey, value: [...keys].sort() }
        if (index.etag !== undefined)
          Object.assign(request, { etag: index.etag, options: { concurrency: 'first-write' } })
        operations.push({ operation: 'upsert', request })
      }
      const response = await sidecar.request({
        method: 'POST',
        path: `/v1.0/state/${store}/transaction`,
        body: JSON.stringify({ operations }),
        headers: JSON_HEADERS,
      })
      if (response.status === 409) continue
      if (response.status < 200 || response.status >= 300) fail(`writing ${key}`, response)
      if (!changed || index.etag !== undefined) return
      const created = new Set((await readIndex()).keys)
      if (!change(created)) return // the index we created (or its successor) is as we wanted it
    }
    throw new ConduitError(
      503,
      'DAPR_STATE_CONFLICT',
      `the key index kept changing while writing ${key}`,
      true,
    )
  }

  return {
    name: DAPR_STATE_STORE_NAME,

    async get<T>(key: string) {
      const response = await sidecar.request({
        method: 'GET',
        path: `/v1.0/state/${store}/${encodeURIComponent(key)}`,
      })
      if (response.status === 204 || (response.status === 200 && response.body.byteLength === 0))
        return undefined
      if (response.status !== 200) fail(`reading ${key}`, response)
      return JSON.parse(response.body.toString('utf8')) as T
    },

    async set(key, value) {
      if (indexKey !== false && key === indexKey)
        throw new ConduitError(400, 'RESERVED_KEY', `${key} holds the key index`, false)
      const upsert = { operation: 'upsert', request: { key, value } }
      if (indexKey === false) {
        const response = await sidecar.request({
          method: 'POST',
          path: `/v1.0/state/${store}`,
          body: JSON.stringify([{ key, value }]),
          headers: JSON_HEADERS,
        })
        if (response.status < 200 || response.status >= 300) fail(`writing ${key}`, response)
        return
      }
      await writeWithIndex(key, upsert, (keys) => !keys.has(key) && keys.add(key) !== undefined)
    },

    async delete(key) {
      if (indexKey === false) {
        const response = await sidecar.request({
          method: 'DELETE',
          path: `/v1.0/state/${store}/${encodeURIComponent(key)}`,
        })
        if (response.status < 200 || response.status >= 300) fail(`deleting ${key}`, response)
        return
      }
      await writeWithIndex(key, { operation: 'delete', request: { key } }, (keys) => keys.delete(key))
    },

    async keys(prefix = '') {
      if (indexKey === false) {
        throw new ConduitError(
          501,
          'NOT_SUPPORTED',
          'Dapr cannot list state keys; this store runs without a key index',
          false,
        )
      }
      return (await readIndex()).keys.filter((key) => key.startsWith(prefix))
    },

    async close() {
      sidecar.close()
    },
  }
}
