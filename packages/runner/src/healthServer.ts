import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { HealthMonitor, Logger } from '@conduit/core'

export interface HealthServerOptions {
  /** 0 picks a free port */
  port: number
  hostname: string
}

export interface HealthServer {
  readonly port: number
  /** e.g. `http://127.0.0.1:8081` (loopback when bound to every interface) */
  readonly url: string
  /** Stops listening; a probe still being answered gets a short grace, then its socket is cut. */
  close(): Promise<void>
}

/** Probes answer in microseconds; a socket still open after this is a stuck client. */
const CLOSE_GRACE_MS = 1_000

/**
 * `/healthz` (liveness) and `/readyz` (readiness) from a HealthMonitor, on node:http so a
 * service-only process carries no web framework.
 *
 * - `GET /healthz`: 200 `{ status: 'ok' }`, or 503 `{ status: 'unhealthy', reason }` once the
 *   bridge's client gave up for good (the orchestrator should restart the process).
 * - `GET /readyz`: 200 `{ status: 'ready', sinceChangeMs, checks }`, or 503
 *   `{ status: 'not ready', reason, sinceChangeMs, checks }`: a dependency is down, the services
 *   are not started yet, or shutdown has begun.
 */
export async function serveHealth(
  monitor: HealthMonitor,
  options: HealthServerOptions,
): Promise<HealthServer> {
  const server = createServer((request, response) => {
    answer(monitor, request, response).catch((error: unknown) => {
      if (!response.headersSent) send(response, 500, { status: 'error', reason: (error as Error).message })
      else response.destroy()
    })
  })
  const address = await new Promise<AddressInfo>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.hostname, () => {
      server.off('error', reject)
      resolve(server.address() as AddressInfo)
    })
  })
  // Bound to every interface: the URL names loopback, where a probe from this host reaches it.
  const reachable =
    address.address === '0.0.0.0' ? '127.0.0.1' : address.address === '::' ? '::1' : address.address
  const host = reachable.includes(':') ? `[${reachable}]` : reachable
  let closing: Promise<void> | undefined
  return {
    port: address.port,
    url: `http://${host}:${address.port}`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeIdleConnections()
        setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS).unref()
      })
      return closing
    },
  }
}

async function answer(monitor: HealthMonitor, request: IncomingMessage, response: ServerResponse) {
  const path = new URL(request.url ?? '/', 'http://health').pathname
  if (path !== '/healthz' && path !== '/readyz') return send(response, 404, { status: 'not found' })
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('allow', 'GET, HEAD')
    return send(response, 405, { status: 'method not allowed' })
  }
  if (path === '/healthz') {
    const liveness = monitor.liveness()
    return liveness.live
      ? send(response, 200, { status: 'ok' })
      : send(response, 503, { status: 'unhealthy', reason: liveness.reason })
  }
  const { ready, ...readiness } = await monitor.readiness()
  return send(response, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', ...readiness })
}

function send(response: ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body)
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  })
  response.end(response.req.method === 'HEAD' ? undefined : text)
}

/**
 * Logs when liveness changes (checked every `intervalMs`), so the moment a client gives up
 * shows in the logs and not only in the probe's answers. Returns the function that stops it.
 */
export function watchLiveness(monitor: HealthMonitor, logger: Logger, intervalMs = 1_000): () => void {
  let live = monitor.liveness().live
  const timer = setInterval(() => {
    if (monitor.stopping) return // the bridge is stopping on purpose
    const liveness = monitor.liveness()
    if (liveness.live === live) return
    live = liveness.live
    if (live) logger.info('liveness restored: /healthz answers 200 again')
    else logger.error({ reason: liveness.reason }, 'liveness lost: /healthz answers 503')
  }, intervalMs)
  timer.unref()
  return () => clearInterval(timer)
}
