import type { IncomingHttpHeaders } from 'node:http'
import type { Context } from 'hono'

/** Reads one request header by its lower-case name. */
export type HeaderReader = (lowerCaseName: string) => string | undefined

/**
 * Under @hono/node-server the Node request's plain header object is at hand; reading it avoids
 * building a WHATWG `Headers` object per request, which the profile showed costing more than the
 * gateway's own work. Any other runtime falls back to the standard `Request.headers`.
 */
export function headerReader(c: Context): HeaderReader {
  const incoming = (c.env as { incoming?: { headers?: IncomingHttpHeaders } } | undefined)?.incoming
  const nodeHeaders = incoming?.headers
  if (nodeHeaders) {
    return (name) => {
      const value = nodeHeaders[name]
      return Array.isArray(value) ? value.join(', ') : value
    }
  }
  const headers = c.req.raw.headers
  return (name) => headers.get(name) ?? undefined
}
