import { ConduitError } from '@conduit/core'
import { daprErrorOf, describeDaprError, type SidecarClient, type SidecarResponse } from '../SidecarClient.js'

/** One item of a bulk get: `data` and `etag` when the key exists. */
export interface BulkItem {
  readonly key: string
  readonly data?: unknown
  readonly etag?: string
  readonly error?: string
}

export interface StateWrite {
  readonly key: string
  /** JSON text, embedded as is */
  readonly json: string
  /** only while the key is still at this ETag (`concurrency: first-write`) */
  readonly etag?: string
  /** whole seconds until Dapr removes the value; -1 keeps it (also overriding an earlier TTL) */
  readonly ttlInSeconds: number
}

export type TransactionOperation = { readonly upsert: StateWrite } | { readonly delete: string }

const JSON_HEADERS = { 'content-type': 'application/json' }

/** A state write request as JSON text, with the value spliced in unparsed. */
function writeRequest(write: StateWrite): string {
  const head = JSON.stringify({
    key: write.key,
    ...(write.etag === undefined ? {} : { etag: write.etag, options: { concurrency: 'first-write' } }),
    metadata: { ttlInSeconds: String(write.ttlInSeconds) },
  })
  return `${head.slice(0, -1)},"value":${write.json}}`
}

function operationJson(operation: TransactionOperation): string {
  if ('delete' in operation)
    return JSON.stringify({ operation: 'delete', request: { key: operation.delete } })
  return `{"operation":"upsert","request":${writeRequest(operation.upsert)}}`
}

/**
 * The calls the state driver makes on the sidecar's state API (docs: reference/api/state_api),
 * with Dapr's answers turned into results or ConduitErrors.
 */
export class StateApi {
  private readonly base: string

  constructor(
    private readonly sidecar: SidecarClient,
    readonly storeName: string,
    private readonly maxRequestBytes: number,
  ) {
    this.base = `/v1.0/state/${encodeURIComponent(storeName)}`
  }

  /** Reads keys in one request; the answer is in the order asked. */
  async bulkGet(keys: readonly string[]): Promise<BulkItem[]> {
    const response = await this.send('POST', `${this.base}/bulk`, JSON.stringify({ keys }))
    if (response.status !== 200) this.fail('bulk get', response)
    const items = JSON.parse(response.body.toString('utf8')) as BulkItem[]
    const byKey = new Map(items.map((item) => [item.key, item]))
    return keys.map((key) => {
      const item = byKey.get(key) ?? { key }
      if (item.error)
        throw new ConduitError(503, 'DAPR_STATE_FAILED', `Dapr could not read ${key}: ${item.error}`, true)
      return item
    })
  }

  /** Saves without conditions (used for the constant guard value). */
  async save(write: StateWrite): Promise<void> {
    const response = await this.send('POST', this.base, `[${writeRequest(write)}]`)
    if (response.status < 200 || response.status >= 300) this.fail(`saving ${write.key}`, response)
  }

  /**
   * Runs operations as one Dapr transaction. False when it failed in a way an ETag mismatch
   * explains: Dapr answers any failed transaction with 500 ERR_STATE_TRANSACTION, so the caller
   * checks whether an ETag it named changed before it tries again; other answers throw.
   */
  async transact(
    operations: readonly TransactionOperation[],
  ): Promise<{ ok: true } | { ok: false; why: string }> {
    const body = `{"operations":[${operations.map(operationJson).join(',')}]}`
    const response = await this.send('POST', `${this.base}/transaction`, body)
    if (response.status >= 200 && response.status < 300) return { ok: true }
    const { errorCode } = daprErrorOf(response)
    if (response.status === 409 || (response.status === 500 && errorCode === 'ERR_STATE_TRANSACTION'))
      return { ok: false, why: describeDaprError(response) }
    this.fail('a transaction', response)
  }

  private send(method: 'POST', path: string, body: string): Promise<SidecarResponse> {
    const bytes = Buffer.byteLength(body)
    if (bytes > this.maxRequestBytes) {
      throw new ConduitError(
        413,
        'DAPR_STATE_REQUEST_TOO_LARGE',
        `a state request of ${bytes} bytes exceeds the sidecar's max request size of ${this.maxRequestBytes} ` +
          '(a value with its key-index bucket; raise dapr.io/http-max-request-size and maxRequestBytes, or indexBuckets)',
        false,
      )
    }
    return this.sidecar.request({ method, path, body, headers: JSON_HEADERS })
  }

  fail(what: string, response: SidecarResponse): never {
    throw new ConduitError(
      response.status === 400 ? 500 : 503,
      'DAPR_STATE_FAILED',
      `Dapr state store ${this.storeName}: ${what} failed (${describeDaprError(response)})`,
      response.status !== 400,
    )
  }
}
