import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { BridgeUnavailableError, type Logger } from '@conduit/core'
import type { TransportHost } from '@conduit/core/transport'
import type { Respond } from './CommandRoutes.js'
import type { DaprStatus } from './eventDelivery.js'
import { commandKeyOfPath, topicOfEventRoute } from './routes.js'
import type { DaprSubscription } from './TopicSubscriptions.js'

/** What the app port serves to the sidecar. */
export interface AppRoutes {
  /** `GET /dapr/subscribe` */
  subscriptions(): Promise<DaprSubscription[]>
  /** `POST /conduit/command/<service>/<version>/<command>` (service invocation), answered through `respond` */
  command(key: string, body: Uint8Array, respond: Respond): Promise<void>
  /** `POST /conduit/event/<topic>` (pub/sub delivery of a CloudEvent) */
  event(topic: string, body: Uint8Array): Promise<DaprStatus>
  /** a delivery on `topic` larger than the app reads */
  oversizedEvent(topic: string, size: number, limit: number): Promise<DaprStatus>
}

class BodyTooLarge extends Error {
  constructor(readonly size: number) {
    super(`body over the limit (${size} bytes read so far)`)
  }
}

function readBody(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    request.on('data', (chunk: Buffer) => {
      size += chunk.byteLength
      if (size > maxBytes) {
        request.removeAllListeners('data')
        request.resume()
        reject(new BodyTooLarge(Math.max(size, Number(request.headers['content-length']) || 0)))
        return
      }
      chunks.push(chunk)
    })
    request.on('end', () => resolve(Buffer.concat(chunks)))
    request.on('error', reject)
  })
}

/** Writes one answer; resolves once written, rejects when the connection closed first or it was answered already. */
function answer(response: ServerResponse, status: number, body: Uint8Array | string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (response.headersSent) return reject(new Error('the request was answered already'))
    if (response.destroyed) return reject(new Error('the sidecar closed the connection before the answer'))
    response.once('finish', resolve)
    response.once('close', () => reject(new Error('the sidecar closed the connection before the answer')))
    response.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    })
    response.end(body)
  })
}

const errorBody = (errorCode: string, message: string) => JSON.stringify({ errorCode, message })

/**
 * The HTTP server on the app port, on node:http: a handful of fixed routes, raw bodies, and
 * routes that appear after it started (DaprServer wants every subscription before it starts).
 * Every answer that cannot be written is reported to the engine, never thrown.
 */
export class AppServer {
  private server: Server | undefined

  constructor(
    private readonly routes: AppRoutes,
    private readonly engine: Pick<TransportHost, 'logger' | 'reportFailure'>,
    /** largest body read on the command and on the event routes */
    private readonly limits: { readonly command: number; readonly event: number },
  ) {}

  get listening(): boolean {
    return this.server?.listening === true
  }

  get port(): number | undefined {
    return (this.server?.address() as AddressInfo | null)?.port
  }

  private get logger(): Logger {
    return this.engine.logger
  }

  listen(host: string, port: number): Promise<void> {
    const server = createServer((request, response) => {
      this.serve(request, response).catch((error: unknown) => {
        const stopping = (error as Error).name === 'AbortError' // the sidecar waited for the list while the bridge stopped
        if (!stopping) this.logger.error({ err: error, path: request.url }, 'app route failed')
        const [status, body] = stopping
          ? [503, errorBody('CONDUIT_STOPPING', 'the app is stopping')]
          : [500, errorBody('CONDUIT_APP_ERROR', 'internal error')]
        answer(response, status, body).catch((failure: unknown) =>
          this.engine.reportFailure('answer the sidecar', failure, { path: request.url }),
        )
      })
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

  /**
   * Stops the app port. The engine has drained the handlers already: answers decided since (a
   * RETRY for a paused listener) are written in this turn of the event loop; what is still open
   * after it is cut, and the sidecar retries it (pub/sub) or fails its caller (invocation).
   */
  async close(): Promise<void> {
    const server = this.server
    if (!server) return
    this.server = undefined
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    await new Promise((resolve) => setImmediate(resolve))
    server.closeAllConnections()
    await closed
  }

  private async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '/').split('?')[0]!
    if (request.method === 'GET' && path === '/dapr/subscribe') {
      const list = JSON.stringify(await this.routes.subscriptions())
      return this.reported(answer(response, 200, list), 'answer the subscription list', path)
    }
    if (request.method === 'GET' && path === '/healthz') {
      return this.reported(answer(response, this.listening ? 200 : 503, '{}'), 'answer a health check', path)
    }
    const commandKey = request.method === 'POST' ? commandKeyOfPath(path) : undefined
    const topic = request.method === 'POST' ? topicOfEventRoute(path) : undefined
    if (commandKey === undefined && topic === undefined) {
      const notFound = errorBody('CONDUIT_NOT_FOUND', `no route ${path}`)
      return this.reported(answer(response, 404, notFound), 'answer the sidecar', path)
    }
    const limit = commandKey !== undefined ? this.limits.command : this.limits.event
    let body: Buffer | BodyTooLarge
    try {
      body = await readBody(request, limit)
    } catch (error) {
      if (!(error instanceof BodyTooLarge)) throw error
      body = error
    }
    if (commandKey !== undefined) {
      const respond: Respond = (status, text) => answer(response, status, text)
      const served =
        body instanceof BodyTooLarge
          ? respond(413, errorBody('CONDUIT_TOO_LARGE', `over ${limit} bytes`))
          : this.routes.command(commandKey, body, respond)
      return this.reported(served, 'answer a service invocation', path)
    }
    const eventTopic = decodeURIComponent(topic!)
    const status =
      body instanceof BodyTooLarge
        ? await this.routes.oversizedEvent(eventTopic, body.size, limit)
        : await this.routes.event(eventTopic, body)
    return this.reported(answer(response, 200, JSON.stringify({ status })), 'answer a pub/sub delivery', path)
  }

  private async reported(writing: Promise<void>, action: string, path: string): Promise<void> {
    try {
      await writing
    } catch (error) {
      this.engine.reportFailure(action, error, { path })
    }
  }
}
