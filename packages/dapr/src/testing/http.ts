import {
  Agent,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type ServerResponse,
} from 'node:http'

/** Dapr's error body shape: `{"errorCode": "ERR_...", "message": "..."}`. */
export function sendDaprError(
  response: ServerResponse,
  status: number,
  errorCode: string,
  message: string,
): void {
  sendJson(response, status, { errorCode, message })
}

export function sendJson(
  response: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify(value)
  if (response.headersSent) return
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    ...headers,
  })
  response.end(body)
}

export function sendEmpty(
  response: ServerResponse,
  status: number,
  headers: Record<string, string> = {},
): void {
  if (response.headersSent) return
  response.writeHead(status, headers)
  response.end()
}

export class BodyTooLargeError extends Error {}

export function readBody(incoming: IncomingMessage, maxBytes = Number.POSITIVE_INFINITY): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    incoming.on('data', (chunk: Buffer) => {
      size += chunk.byteLength
      if (size > maxBytes) {
        incoming.removeAllListeners('data')
        incoming.resume()
        reject(new BodyTooLargeError(`body over ${maxBytes} bytes`))
        return
      }
      chunks.push(chunk)
    })
    incoming.on('end', () => resolve(Buffer.concat(chunks)))
    incoming.on('error', reject)
  })
}

export interface AppResponse {
  status: number
  headers: IncomingHttpHeaders
  body: Buffer
}

/** One HTTP call from a sidecar to its app (the app channel). */
export function callApp(
  agent: Agent,
  target: { host: string; port: number },
  options: {
    method: string
    path: string
    headers: Record<string, string | string[]>
    body?: Uint8Array
    signal?: AbortSignal
  },
): Promise<AppResponse> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        host: target.host,
        port: target.port,
        method: options.method,
        path: options.path,
        headers: options.headers,
        agent,
        ...(options.signal ? { signal: options.signal } : {}),
      },
      (incoming) => {
        readBody(incoming).then(
          (body) => resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, body }),
          reject,
        )
      },
    )
    outgoing.on('error', reject)
    outgoing.end(options.body)
  })
}

export function newAppAgent(): Agent {
  return new Agent({ keepAlive: true, maxSockets: 256 })
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  'proxy-connection',
  'te',
  'trailer',
])

/** Request or response headers without the hop-by-hop ones, for forwarding. */
export function forwardableHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const forwarded: Record<string, string | string[]> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) forwarded[name] = value
  }
  return forwarded
}
