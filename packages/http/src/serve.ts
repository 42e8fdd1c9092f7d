import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import type { Hono } from 'hono'

export interface ServeOptions {
  /** 0 picks a free port; default 3000 */
  port?: number
  /** default `127.0.0.1`; use `0.0.0.0` to listen on every interface */
  hostname?: string
  /** how long close() lets requests in flight finish before cutting connections; default 5 s */
  closeTimeoutMs?: number
}

export interface ServedGateway {
  readonly port: number
  readonly hostname: string
  /** e.g. `http://127.0.0.1:3000` */
  readonly url: string
  /** Stops accepting, lets requests finish (bounded), then closes what is left (event streams). */
  close(): Promise<void>
}

/** Serves a gateway (or any Hono app) with @hono/node-server; resolves once it listens. */
export async function serveGateway(app: Hono<any>, options: ServeOptions = {}): Promise<ServedGateway> {
  const hostname = options.hostname ?? '127.0.0.1'
  const closeTimeoutMs = options.closeTimeoutMs ?? 5_000
  let server!: ReturnType<typeof serve>
  const address = await new Promise<AddressInfo>((resolve, reject) => {
    server = serve({ fetch: app.fetch, port: options.port ?? 3000, hostname }, resolve)
    server.once('error', reject)
  })
  const httpServer = server as import('node:http').Server
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  let closing: Promise<void> | undefined
  return {
    port: address.port,
    hostname: address.address,
    url: `http://${host}:${address.port}`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        httpServer.close(() => resolve())
        httpServer.closeIdleConnections()
        // Event streams never end by themselves: cut whatever is still open after the grace period.
        setTimeout(() => httpServer.closeAllConnections(), closeTimeoutMs).unref()
      })
      return closing
    },
  }
}
