import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { BridgeUnavailableError, type Logger } from '@conduit/core'
import { type CommandAnswer, NO_HANDLER_HEADER } from './CommandRouter.js'
import type { DaprStatus } from './eventDelivery.js'
import { commandKeyOfPath, topicOfEventRoute } from './routes.js'
import type { DaprSubscription } from './TopicSubscriptions.js'

/** What the app port serves to the sidecar. */
export interface AppRoutes {
  /** `GET /dapr/subscribe` */
  subscriptions(): Promise<DaprSubscription[]>
  /** `POST /conduit/command/<service>/<version>/<command>` (service invocation) */
  command(key: string, body: Uint8Array): Promise<CommandAnswer>
  /** `POST /conduit/event/<topic>` (pub/sub delivery of a CloudEvent) */
  event(topic: string, body: Uint8Array): Promise<DaprStatus>
}

class BodyTooLarge extends Error {}

function readBody(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    request.on('data', (chunk: Buffer) => {
      size += chunk.byteLength
      if (size > maxBytes) {
        request.removeAllListeners('data')
        request.resume()
        reject(new BodyTooLarge())
        return
      }
      chunks.push(chunk)
    })
    request.on('end', () => resolve(Buffer.concat(chunks)))
    request.on('error', reject)
  })
}

function send(
  response: ServerResponse,
  status: number,
  body: Uint8Array | string,
  headers: Record<string, string> = {},
) {
  if (response.headersSent || response.destroyed) return
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    ...headers,
  })
  response.end(body)
}

/**
 * The HTTP server on the app port, on node:http: a handful of fixed routes, raw bodies, and
 * routes that appear after it started (DaprServer wants every subscription before it starts).
 */
export class AppServer {
  private server: Server | undefined
  private readonly inFlight = new Set<Promise<void>>()
  private stopping = false

  constructor(
    private readonly routes: AppRoutes,
    private readonly logger: Logger,
    private readonly maxBodyBytes: number,
  ) {}

  get listening(): boolean {
    return this.server?.listening === true && !this.stopping
  }

  get port(): number | undefined {
    return (this.server?.address() as AddressInfo | null)?.port
  }

  listen(host: string, port: number): Promise<void> {
    const server = createServer((request, response) => {
      const handling = this.serve(request, response).catch((error) => {
        if ((error as Error).name === 'AbortError') {
          // the bridge is stopping while the sidecar waits for the subscription list
          send(
            response,
            503,
            JSON.stringify({ errorCode: 'CONDUIT_STOPPING', message: 'the app is stopping' }),
          )
          return
        }
        this.logger.error({ err: error, path: request.url }, 'app route failed')
        send(response, 500, JSON.stringify({ errorCode: 'CONDUIT_APP_ERROR', message: 'internal error' }))
      })
      this.inFlight.add(handling)
      void handling.finally(() => this.inFlight.delete(handling))
    })
    server.keepAliveTimeout = 65_000
    this.server = server
    return new Promise((resolve, reject) => {
      server.once('error', (error) =>
        reject(
          new BridgeUnavailableError(
            `The Dapr app server cannot listen on ${host}:${port} (${error.message})`,
          ),
        ),
      )
      server.listen(port, host, () => {
        server.removeAllListeners('error')
        resolve()
      })
    })
  }

  /** Stops accepting, lets requests in flight answer (bounded), then drops the connections. */
  async close(drainMs: number): Promise<void> {
    const server = this.server
    if (!server) return
    this.stopping = true
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    server.closeIdleConnections()
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      Promise.allSettled([...this.inFlight]),
      new Promise((resolve) => {
        timer = setTimeout(resolve, drainMs)
      }),
    ])
    clearTimeout(timer)
    server.closeAllConnections()
    await closed
    this.server = undefined
  }

  private async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '/').split('?')[0]!
    if (request.method === 'GET' && path === '/dapr/subscribe') {
      send(response, 200, JSON.stringify(await this.routes.subscriptions()))
      return
    }
    if (request.method === 'GET' && path === '/healthz') {
      send(response, this.stopping ? 503 : 200, '{}')
      return
    }
    const commandKey = request.method === 'POST' ? commandKeyOfPath(path) : undefined
    const topic = request.method === 'POST' ? topicOfEventRoute(path) : undefined
    if (commandKey === undefined && topic === undefined) {
      send(response, 404, JSON.stringify({ errorCode: 'CONDUIT_NOT_FOUND', message: `no route ${path}` }))
      return
    }
    let body: Buffer
    try {
      body = await readBody(request, this.maxBodyBytes)
    } catch (error) {
      if (!(error instanceof BodyTooLarge)) throw error
      send(
        response,
        413,
        JSON.stringify({ errorCode: 'CONDUIT_TOO_LARGE', message: `over ${this.maxBodyBytes} bytes` }),
      )
      return
    }
    if (commandKey !== undefined) {
      const answer = this.stopping
        ? { status: 404, contentType: 'application/json', body: '{"errorCode":"CONDUIT_NO_HANDLER"}' }
        : await this.routes.command(commandKey, body)
      const headers: Record<string, string> = { 'content-type': answer.contentType }
      if (answer.status === 404) headers[NO_HANDLER_HEADER] = '1'
      send(response, answer.status, answer.body, headers)
      return
    }
    const status = this.stopping ? 'RETRY' : await this.routes.event(decodeURIComponent(topic!), body)
    send(response, 200, JSON.stringify({ status }))
  }
}
