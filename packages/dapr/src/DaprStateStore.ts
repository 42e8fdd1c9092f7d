import { ConduitError, type StateStore } from '@conduit/core'
import { createStateStore } from '@conduit/core/transport'
import { resolveDaprOptions } from './options.js'
import { SidecarClient } from './SidecarClient.js'
import { daprStateDriver } from './state/daprStateDriver.js'
import { StateApi } from './state/stateApi.js'
import { StoredKeys } from './state/storedKeys.js'

export { DAPR_STATE_STORE_NAME } from './state/daprStateDriver.js'

/** Dapr's default `--dapr-http-max-request-size`: 4 MiB. */
const DEFAULT_MAX_REQUEST_BYTES = 4 * 1024 * 1024
/** room in a write request for the key, the envelope and the key's index bucket */
const REQUEST_HEADROOM_BYTES = 256 * 1024
const DEFAULT_MAX_KEY_BYTES = 512
const DEFAULT_INDEX_BUCKETS = 256

export interface DaprSidecarOptions {
  /** default `127.0.0.1` */
  daprHost?: string
  /** default `DAPR_HTTP_PORT` or 3500 */
  daprHttpPort?: number
  /** default `DAPR_API_TOKEN` */
  daprApiToken?: string
}

export interface DaprStateStoreOptions extends DaprSidecarOptions {
  /**
   * The state store component (`metadata.name` in its YAML); default `statestore`. It must support
   * ETags and transactions (Dapr's PostgreSQL, MySQL, SQL Server, MongoDB, ... do; see
   * docs/stores/dapr.md for Redis).
   */
  storeName?: string
  /** keys of two namespaces in one store never see each other; default '' */
  namespace?: string
  /**
   * How many buckets hold the namespace's key index (default 256). Fixed once the namespace has
   * keys; raise it for more than ~250,000 keys per namespace so a bucket stays small.
   */
  indexBuckets?: number
  /** longest key in UTF-8 bytes (default 512); the stored key is up to 3 times longer */
  maxKeyBytes?: number
  /** the sidecar's max request body (`dapr.io/http-max-request-size`), default 4 MiB */
  maxRequestBytes?: number
}

export type DaprStateStore = StateStore

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  const chosen = value ?? fallback
  if (!Number.isSafeInteger(chosen) || chosen < 1)
    throw new ConduitError(
      500,
      'INVALID_OPTION',
      `Dapr state store: ${name} must be a positive whole number`,
      false,
    )
  return chosen
}

/** A StateStore over the sidecar's state API (`/v1.0/state/<store>`). */
export function daprStateStore(options: DaprStateStoreOptions = {}): DaprStateStore {
  const resolved = resolveDaprOptions(options)
  const sidecar = new SidecarClient(resolved.daprBaseUrl, resolved.daprApiToken)
  const maxRequestBytes = positiveInteger(
    'maxRequestBytes',
    options.maxRequestBytes,
    DEFAULT_MAX_REQUEST_BYTES,
  )
  if (maxRequestBytes <= 2 * REQUEST_HEADROOM_BYTES)
    throw new ConduitError(
      500,
      'INVALID_OPTION',
      'Dapr state store: maxRequestBytes must exceed 512 KiB',
      false,
    )
  const keys = new StoredKeys(
    options.namespace ?? '',
    positiveInteger('indexBuckets', options.indexBuckets, DEFAULT_INDEX_BUCKETS),
  )
  return createStateStore(
    daprStateDriver({
      api: new StateApi(sidecar, options.storeName ?? 'statestore', maxRequestBytes),
      keys,
      maxKeyBytes: positiveInteger('maxKeyBytes', options.maxKeyBytes, DEFAULT_MAX_KEY_BYTES),
      maxValueBytes: maxRequestBytes - REQUEST_HEADROOM_BYTES,
      async close() {
        sidecar.close()
      },
    }),
  )
}
