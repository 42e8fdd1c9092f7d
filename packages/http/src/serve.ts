import type { ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import type { Hono } from 'hono'

export interface ServeOptions {
  /** 0 picks a free port; default 3000 */
  port?: number
  /** default `127.0.0.1`; use `0.0.0.0` to listen on every interface */
  hostname?: string
  /** how long close() waits before cutting the responses still streaming (event streams); default 5 s */
  closeTimeoutMs?: number
}

export interface ServedGateway {
  readonly port: number
  readonly hostname: string
  /** e.g. `http://127.0.0.1:3000` */
  readonly url: string
  /**
   * Stops accepting connections and lets every request in flight complete (a command's own
   * deadline bounds it). Responses still streaming after `closeTimeoutMs` (event streams, which
   * never end by themselves) are cut. Resolves once every connection is closed.
   */
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

  // Responses not yet closed, so shutdown can tell requests in flight (left to finish) from
  // streams (cut after the grace period). Registered ahead of the app so a request that arrives
  // on a kept-alive connection during shutdown is answered with `connection: close`.
  const open = new Set<ServerResponse>()
  let closing: Promise<void> | undefined
  httpServer.prependListener('request', (_request, response: ServerResponse) => {
    open.add(response)
    if (closing) response.setHeader('connection', 'close')
    response.once('close', () => {
      open.delete(response)
      // its connection may now be idle: close it rather than wait for the keep-alive timeout
      if (closing) setImmediate(() => httpServer.closeIdleConnections())
    })
  })

  return {
    port: address.port,
    hostname: address.address,
    url: `http://${host}:${address.port}`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        httpServer.close(() => resolve())
        httpServer.closeIdleConnections()
        // Requests in flight end their connection with their response.
        for (const response of open) if (!response.headersSent) response.setHeader('connection', 'close')
        setTimeout(() => {
          // Headers sent, body not ended: a stream. Requests still computing their answer go on.
          for (const response of open) if (response.headersSent && !response.writableEnded) response.destroy()
        }, closeTimeoutMs).unref()
      })
      return closing
    },
  }
}
