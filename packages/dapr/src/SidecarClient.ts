import { Agent, type IncomingHttpHeaders, request } from 'node:http'
import { BridgeUnavailableError } from '@conduit/core'

export interface SidecarRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  /** path on the sidecar, e.g. `/v1.0/publish/pubsub/orders` */
  path: string
  body?: Uint8Array | string
  headers?: Record<string, string>
  /** abort the request after this long (the caller's deadline) */
  timeoutMs?: number
}

export interface SidecarResponse {
  status: number
  headers: IncomingHttpHeaders
  body: Buffer
}

/** What became of a request after it was handed over: the sidecar's answer, or a failure while waiting. */
export type SidecarOutcome = { readonly response: SidecarResponse } | { readonly error: unknown }

/** The sidecar did not answer before the request's timeout. */
export class SidecarTimeout extends Error {
  constructor(path: string, timeoutMs: number) {
    super(`the Dapr sidecar did not answer ${path} within ${timeoutMs} ms`)
    this.name = 'SidecarTimeout'
  }
}

/** Dapr's error body: `{"errorCode": "ERR_...", "message": "..."}`. */
export interface DaprErrorBody {
  errorCode?: string
  message?: string
}

export function daprErrorOf(response: SidecarResponse): DaprErrorBody {
  try {
    const parsed = JSON.parse(response.body.toString('utf8')) as unknown
    return typeof parsed === 'object' && parsed !== null ? (parsed as DaprErrorBody) : {}
  } catch {
    return { message: response.body.toString('utf8').slice(0, 500) }
  }
}

export function describeDaprError(response: SidecarResponse): string {
  const { errorCode, message } = daprErrorOf(response)
  return `${response.status}${errorCode ? ` ${errorCode}` : ''}${message ? `: ${message}` : ''}`
}

/**
 * The bridge's HTTP client to its Dapr sidecar: raw bytes in and out, a per-request timeout,
 * pooled keep-alive connections. `reachable` follows the outcome of the latest request.
 */
export class SidecarClient {
  private connected = false
  private probe: NodeJS.Timeout | undefined
  private closed = false
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 256 })
  private readonly host: string
  private readonly port: number

  constructor(
    readonly baseUrl: string,
    private readonly apiToken: string | undefined,
  ) {
    const url = new URL(baseUrl)
    this.host = url.hostname.replace(/^\[|\]$/g, '')
    this.port = Number(url.port || 80)
  }

  request(options: SidecarRequest): Promise<SidecarResponse> {
    return this.exchange(options)
  }

  /**
   * Resolves once the request is written to the connection (the sidecar has it); rejects when it
   * could not be, so nothing was sent. What happens after (the answer, or a failure of the
   * connection while waiting for it) goes to `settle`, which must not throw.
   */
  handOver(options: SidecarRequest, settle: (outcome: SidecarOutcome) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      let sent = false
      const handedOver = () => {
        sent = true
        resolve()
      }
      this.exchange(options, handedOver).then(
        (response) => {
          if (!sent) handedOver() // the sidecar answered before the body was flushed (e.g. 413)
          settle({ response })
        },
        (error: unknown) => (sent ? settle({ error }) : reject(error)),
      )
    })
  }

  private exchange(options: SidecarRequest, onSent?: () => void): Promise<SidecarResponse> {
    const headers: Record<string, string | number> = { ...options.headers }
    if (this.apiToken) headers['dapr-api-token'] = this.apiToken
    if (options.body !== undefined) headers['content-length'] = Buffer.byteLength(options.body)
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined
      const outgoing = request(
        {
          host: this.host,
          port: this.port,
          path: options.path,
          method: options.method,
          headers,
          agent: this.agent,
        },
        (incoming) => {
          const chunks: Buffer[] = []
          incoming.on('data', (chunk: Buffer) => chunks.push(chunk))
          incoming.on('error', (error) => {
            clearTimeout(timer)
            reject(this.unreachable(error))
          })
          incoming.on('end', () => {
            clearTimeout(timer)
            this.markReachable(true)
            resolve({
              status: incoming.statusCode ?? 0,
              headers: incoming.headers,
              body: Buffer.concat(chunks),
            })
          })
        },
      )
      if (onSent) outgoing.once('finish', onSent)
      outgoing.on('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer)
        reject(error instanceof SidecarTimeout ? error : this.unreachable(error))
      })
      if (options.timeoutMs !== undefined) {
        const timeoutMs = Math.max(1, options.timeoutMs)
        timer = setTimeout(() => outgoing.destroy(new SidecarTimeout(options.path, timeoutMs)), timeoutMs)
      }
      outgoing.end(options.body)
    })
  }

  private unreachable(error: NodeJS.ErrnoException): BridgeUnavailableError {
    this.markReachable(false)
    return new BridgeUnavailableError(
      `The Dapr sidecar at ${this.baseUrl} is unreachable (${error.code ?? error.message})`,
    )
  }

  /** Waits until `GET /v1.0/healthz/outbound` answers 2xx (the sidecar can serve API calls). */
  async waitUntilReady(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs
    let last = 'no answer yet'
    for (let pause = 20; Date.now() < until; pause = Math.min(pause * 2, 500)) {
      try {
        const response = await this.request({
          method: 'GET',
          path: '/v1.0/healthz/outbound',
          timeoutMs: until - Date.now(),
        })
        if (response.status >= 200 && response.status < 300) return
        last = `status ${response.status}`
      } catch (error) {
        last = (error as Error).message
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(pause, Math.max(0, until - Date.now()))))
    }
    throw new BridgeUnavailableError(
      `The Dapr sidecar at ${this.baseUrl} is not ready after ${timeoutMs} ms (${last})`,
    )
  }

  /** Whether the latest request reached the sidecar; while not, a probe checks once a second. */
  get reachable(): boolean {
    return this.connected
  }

  private markReachable(reachable: boolean): void {
    this.connected = reachable
    if (reachable) {
      clearInterval(this.probe)
      this.probe = undefined
    } else if (!this.probe && !this.closed) {
      this.probe = setInterval(() => {
        this.request({ method: 'GET', path: '/v1.0/healthz/outbound', timeoutMs: 900 }).catch(() => undefined)
      }, 1_000)
      this.probe.unref()
    }
  }

  close(): void {
    this.closed = true
    clearInterval(this.probe)
    this.agent.destroy()
    this.connected = false
  }
}
