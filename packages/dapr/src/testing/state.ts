import type { IncomingMessage, ServerResponse } from 'node:http'
import { BodyTooLargeError, readBody, sendDaprError, sendEmpty, sendJson } from './http.js'

// The state API (docs: reference/api/state_api, state-management-overview, state-store-ttl):
// save, get, bulk get, delete, transactions. ETags give optimistic concurrency: a write or delete
// naming an ETag succeeds only while it matches the key's latest ETag (a missing key has none, so
// it never matches); without an ETag, or with `concurrency: last-write`, the last write wins.
// A mismatch answers 409 on save and delete; a transaction is all-or-nothing and answers any
// failure, a mismatch included, with 500 ERR_STATE_TRANSACTION, as Dapr's reference lists.
// `metadata.ttlInSeconds` expires a value (-1: never); an expired value reads as missing. A body
// over the sidecar's max request size (`--dapr-http-max-request-size`) is refused, as invocation does.

interface Entry {
  json: string
  etag: number
  /** epoch ms; absent: never expires */
  expiresAt?: number
}

interface StateRequest {
  key: string
  value?: unknown
  etag?: string
  metadata?: Record<string, string>
  options?: { concurrency?: string; consistency?: string }
}

type Operation = { operation: 'upsert' | 'delete'; request: StateRequest }

class EtagMismatch extends Error {}
class BadRequest extends Error {}

/** `||` separates the app id from the key in Dapr's key scheme, so a state key cannot hold it. */
function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key === '') throw new BadRequest('a state key must be a non-empty string')
  if (key.includes('||')) throw new BadRequest(`input key/keyPrefix '${key}' can't contain '||'`)
}

function ttlOf(request: StateRequest): number | undefined {
  const raw = request.metadata?.ttlInSeconds
  if (raw === undefined || raw === '') return undefined
  if (!/^-?\d+$/.test(raw)) throw new Error(`failed to parse ttl from metadata: ${raw}`)
  const seconds = Number(raw)
  return seconds > 0 ? seconds : undefined
}

/** One state store component, in memory. */
export class StateTable {
  private readonly entries = new Map<string, Entry>()
  private nextEtag = 1

  /** The live entry of a key; an expired one is gone. */
  get(key: string): Entry | undefined {
    const entry = this.entries.get(key)
    if (entry?.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      this.entries.delete(key)
      return undefined
    }
    return entry
  }

  /** Applies writes all-or-nothing: every key, TTL and ETag is checked before anything changes. */
  apply(operations: Operation[]): void {
    for (const { operation, request } of operations) {
      checkKey(request.key)
      if (operation === 'upsert') ttlOf(request)
      if (request.etag === undefined || request.etag === '' || request.options?.concurrency === 'last-write')
        continue
      if (String(this.get(request.key)?.etag) !== request.etag)
        throw new EtagMismatch(`possible etag mismatch for key ${request.key}`)
    }
    for (const { operation, request } of operations) {
      if (operation === 'delete') {
        this.entries.delete(request.key)
        continue
      }
      const ttl = ttlOf(request)
      this.entries.set(request.key, {
        json: JSON.stringify(request.value ?? null),
        etag: this.nextEtag++,
        ...(ttl === undefined ? {} : { expiresAt: Date.now() + ttl * 1000 }),
      })
    }
  }
}

function parseJson<T>(body: Buffer): T | undefined {
  try {
    return JSON.parse(body.toString('utf8')) as T
  } catch {
    return undefined
  }
}

/** Handles `/v1.0/state/<store>[/<key>|/bulk|/transaction]`. */
export async function handleState(
  tables: ReadonlyMap<string, StateTable>,
  request: IncomingMessage,
  response: ServerResponse,
  storeName: string,
  rest: string | undefined,
  maxBodyBytes: number,
): Promise<void> {
  const table = tables.get(storeName)
  if (!table) {
    sendDaprError(response, 400, 'ERR_STATE_STORE_NOT_FOUND', `state store ${storeName} is not found`)
    return
  }
  const method = request.method ?? 'GET'
  let body: Buffer
  try {
    body = await readBody(request, maxBodyBytes)
  } catch (error) {
    if (!(error instanceof BodyTooLargeError)) throw error
    return sendDaprError(response, 413, 'ERR_BODY_TOO_LARGE', error.message)
  }
  const write = (operations: Operation[], code: string, transaction = false) => {
    try {
      table.apply(operations)
      sendEmpty(response, 204)
    } catch (error) {
      const message = (error as Error).message
      if (error instanceof BadRequest) sendDaprError(response, 400, 'ERR_MALFORMED_REQUEST', message)
      else if (transaction) sendDaprError(response, 500, 'ERR_STATE_TRANSACTION', message)
      else sendDaprError(response, error instanceof EtagMismatch ? 409 : 500, code, message)
    }
  }
  if (rest === undefined && method === 'POST') {
    const items = parseJson<StateRequest[]>(body)
    if (!Array.isArray(items))
      return sendDaprError(response, 400, 'ERR_MALFORMED_REQUEST', 'expected an array of state objects')
    write(
      items.map((item) => ({ operation: 'upsert' as const, request: item })),
      'ERR_STATE_SAVE',
    )
  } else if (rest === 'bulk' && (method === 'POST' || method === 'PUT')) {
    const keys = parseJson<{ keys?: string[] }>(body)?.keys
    if (!Array.isArray(keys))
      return sendDaprError(response, 400, 'ERR_MALFORMED_REQUEST', 'expected {"keys": [...]}')
    sendJson(
      response,
      200,
      keys.map((key) => {
        const entry = table.get(key)
        return entry ? { key, data: JSON.parse(entry.json), etag: String(entry.etag) } : { key }
      }),
    )
  } else if (rest === 'transaction' && (method === 'POST' || method === 'PUT')) {
    const operations = parseJson<{ operations?: Operation[] }>(body)?.operations
    if (!Array.isArray(operations))
      return sendDaprError(response, 400, 'ERR_MALFORMED_REQUEST', 'expected operations')
    write(operations, 'ERR_STATE_TRANSACTION', true)
  } else if (rest !== undefined && method === 'GET') {
    const entry = table.get(decodeURIComponent(rest))
    if (!entry) return sendEmpty(response, 204)
    response.writeHead(200, { 'content-type': 'application/json', etag: String(entry.etag) })
    response.end(entry.json)
  } else if (rest !== undefined && method === 'DELETE') {
    const etag = request.headers['if-match']
    write(
      [{ operation: 'delete', request: { key: decodeURIComponent(rest), ...(etag ? { etag } : {}) } }],
      'ERR_STATE_DELETE',
    )
  } else {
    sendDaprError(response, 405, 'ERR_METHOD_NOT_ALLOWED', `${method} is not supported here`)
  }
}

/** Handles `/v1.0/secrets/<store>/<name>` and `/bulk` (docs: reference/api/secrets_api). */
export function handleSecrets(
  stores: ReadonlyMap<string, Readonly<Record<string, string>>>,
  response: ServerResponse,
  storeName: string,
  name: string,
) {
  const store = stores.get(storeName)
  if (!store)
    return sendDaprError(response, 400, 'ERR_SECRET_STORE_NOT_FOUND', `secret store ${storeName} not found`)
  if (name === 'bulk') {
    sendJson(
      response,
      200,
      Object.fromEntries(Object.entries(store).map(([key, value]) => [key, { [key]: value }])),
    )
    return
  }
  const key = decodeURIComponent(name)
  const value = store[key]
  if (value === undefined) return sendEmpty(response, 204)
  sendJson(response, 200, { [key]: value })
}
