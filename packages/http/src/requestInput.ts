import type { Context } from 'hono'
import { requestErrors } from './errorResponses.js'
import type { HeaderReader } from './requestHeaders.js'
import type { GatewayRoute } from './routes.js'

/**
 * The envelope's `parameter`: query values, then path values over them so a query string can
 * never override a path segment. A repeated query key becomes an array. `undefined` when both
 * are empty, so the envelope stays small.
 */
export function readParameter(c: Context, route: GatewayRoute): Record<string, unknown> | undefined {
  let parameter: Record<string, unknown> | undefined
  const url = c.req.url
  if (url.includes('?')) {
    const search = new URL(url).searchParams
    for (const key of new Set(search.keys())) {
      const values = search.getAll(key)
      parameter ??= {}
      parameter[key] = values.length === 1 ? values[0] : values
    }
  }
  for (const name of route.pathParameters) {
    parameter ??= {}
    parameter[name] = c.req.param(name)
  }
  return parameter
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json(?:\s*;|$)/i

/**
 * The envelope's `payload`: the JSON body, or the route's empty payload when there is none.
 * Enforces the size limit before and while reading, so an oversized body is never buffered whole.
 */
export async function readPayload(
  request: Request,
  header: HeaderReader,
  route: GatewayRoute,
  limit: number,
): Promise<unknown> {
  if (!route.readsBody) return route.emptyPayload
  // Decide from the headers alone: touching `request.body` makes @hono/node-server build a full
  // web Request around the socket, which costs more than the rest of the request put together.
  const declaredLength = header('content-length')
  let text: string
  if (declaredLength !== undefined) {
    if (Number(declaredLength) > limit) throw requestErrors.payloadTooLarge(limit)
    // Node's HTTP parser stops at the declared length, so text() cannot read more than that.
    text = declaredLength === '0' ? '' : await request.text()
  } else if (header('transfer-encoding') !== undefined && request.body !== null) {
    text = await readBoundedText(request.body, limit)
  } else {
    return route.emptyPayload
  }
  if (text === '') return route.emptyPayload
  const contentType = header('content-type') ?? ''
  if (!JSON_TYPE.test(contentType)) throw requestErrors.unsupportedMediaType(contentType || 'no content type')
  try {
    return JSON.parse(text)
  } catch (error) {
    throw requestErrors.malformedJson((error as Error).message)
  }
}

async function readBoundedText(body: ReadableStream<Uint8Array>, limit: number): Promise<string> {
  const chunks: Uint8Array[] = []
  let size = 0
  const reader = body.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limit) {
      await reader.cancel().catch(() => undefined)
      throw requestErrors.payloadTooLarge(limit)
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks).toString('utf8')
}
