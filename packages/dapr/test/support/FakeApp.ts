import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { readBody } from '../../src/testing/http.js'

export interface ReceivedRequest {
  method: string
  url: string
  headers: IncomingHttpHeaders
  body: Buffer
}

export interface FakeAnswer {
  status?: number
  body?: unknown
  headers?: Record<string, string>
}

/** A plain (non-Conduit) app behind an emulated sidecar: records requests, answers as told. */
export class FakeApp {
  readonly received: ReceivedRequest[] = []
  private constructor(private readonly server: Server) {}

  static async start(
    answer: (request: ReceivedRequest) => FakeAnswer | Promise<FakeAnswer>,
  ): Promise<FakeApp> {
    let app: FakeApp | undefined
    const server = createServer(async (incoming, response) => {
      const request = {
        method: incoming.method ?? 'GET',
        url: incoming.url ?? '/',
        headers: incoming.headers,
        body: await readBody(incoming),
      }
      app!.received.push(request)
      const { status = 200, body, headers = {} } = await answer(request)
      const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body)
      response.writeHead(status, { 'content-type': 'application/json', ...headers })
      response.end(text)
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    app = new FakeApp(server)
    return app
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port
  }

  requestsTo(path: string): ReceivedRequest[] {
    return this.received.filter((request) => request.url.split('?')[0] === path)
  }

  async close(): Promise<void> {
    this.server.closeAllConnections()
    await new Promise((resolve) => this.server.close(resolve))
  }
}

/** Parses the JSON body of a recorded request. */
export function jsonOf(request: ReceivedRequest | undefined): any {
  return request ? JSON.parse(request.body.toString('utf8')) : undefined
}
