import type { IncomingMessage, ServerResponse } from 'node:http'
import { readBody, sendDaprError, sendEmpty, sendJson } from './http.js'

// The state API (docs: reference/api/state_api): save, get, bulk get, delete, transactions,
// with ETags for optimistic concurrency. A mismatched ETag is a 409, as Dapr answers it.

interface Entry {
  json: string
  etag: number
}

interface StateRequest {
  key: string
  value?: unknown
  etag?: string
  options?: { concurrency?: string }
}

class EtagMismatch extends Error {}

/** One state store component, in memory. */
export class StateTable {
  private readonly entries = new Map<string, Entry>()
  private nextEtag = 1

  get(key: string): Entry | undefined {
    return this.entries.get(key)
  }

  /** Applies writes all-or-nothing: every ETag is checked before anything changes. */
  apply(operations: { operation: 'upsert' | 'delete'; request: StateRequest }[]): void {
    for (const { request } of operations) {
      if (request.etag === undefined || request.etag === '') continue
      const current = this.entries.get(request.key)
      if (String(current?.etag) !== request.etag)
        throw new EtagMismatch(`etag mismatch for key ${request.key}`)
    }
    for (const { operation, request } of operations) {
      if (operation === 'delete') this.entries.delete(request.key)
      else
        this.entries.set(request.key, { json: JSON.stringify(request.value ?? null), etag: this.nextEtag++ })
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
): Promise<void> {
  const table = tables.get(storeName)
  if (!table) {
    sendDaprError(response, 400, 'ERR_STATE_STORE_NOT_FOUND', `state store ${storeName} is not found`)
    return
  }
  const method = request.method ?? 'GET'
  const body = await readBody(request)
  const write = (operations: { operation: 'upsert' | 'delete'; request: StateRequest }[], code: string) => {
    try {
      table.apply(operations)
      sendEmpty(response, 204)
    } catch (error) {
      if (error instanceof EtagMismatch) sendDaprError(response, 409, code, (error as Error).message)
      else throw error
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
    const operations = parseJson<{
      operations?: { operation: 'upsert' | 'delete'; request: StateRequest }[]
    }>(body)?.operations
    if (!Array.isArray(operations))
      return sendDaprError(response, 400, 'ERR_MALFORMED_REQUEST', 'expected operations')
    write(operations, 'ERR_STATE_TRANSACTION')
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
