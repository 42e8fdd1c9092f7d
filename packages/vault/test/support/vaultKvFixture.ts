// A test fixture, not Vault: an HTTP server answering the part of Vault's documented HTTP API
// that the store uses, the KV version 2 engine's "Read secret version" and "Create/Update
// secret" (https://developer.hashicorp.com/vault/api-docs/secret/kv/kv-v2), with token auth
// (`X-Vault-Token`, 403 `{"errors":["permission denied"]}`) and `{"errors":[]}` on a 404.
// No Vault binary is packaged by Debian or npm for this machine.
import { createServer, type IncomingMessage, type Server } from 'node:http'

interface Version {
  data: Record<string, unknown>
  version: number
  created_time: string
}

export class VaultKvFixture {
  readonly reads: { path: string; namespace: string | undefined }[] = []
  private readonly secrets = new Map<string, Version>()

  private constructor(
    private readonly server: Server,
    readonly token: string,
  ) {}

  static async start(token = 'test-root-token'): Promise<VaultKvFixture> {
    const server = createServer()
    const fixture = new VaultKvFixture(server, token)
    server.on('request', (request, response) => {
      fixture.handle(request).then(
        ({ status, body }) => {
          response.writeHead(status, { 'content-type': 'application/json' })
          response.end(JSON.stringify(body))
        },
        () => {
          response.writeHead(500).end()
        },
      )
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return fixture
  }

  get address(): string {
    const address = this.server.address()
    if (address === null || typeof address === 'string') throw new Error('not listening')
    return `http://127.0.0.1:${address.port}`
  }

  /** What `vault kv put -mount=<mount> <path> k=v` does. */
  write(mount: string, path: string, data: Record<string, unknown>): void {
    const key = `${mount}/${path}`
    const version = (this.secrets.get(key)?.version ?? 0) + 1
    this.secrets.set(key, { data, version, created_time: new Date().toISOString() })
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()))
  }

  private async handle(request: IncomingMessage): Promise<{ status: number; body: unknown }> {
    if (request.headers['x-vault-token'] !== this.token)
      return { status: 403, body: { errors: ['permission denied'] } }
    const match = /^\/v1\/([^/]+)\/data\/(.+)$/.exec(request.url ?? '')
    if (!match) return { status: 404, body: { errors: [] } }
    const [, mount, path] = match as unknown as [string, string, string]
    if (request.method === 'GET') {
      this.reads.push({
        path: `${mount}/${path}`,
        namespace: request.headers['x-vault-namespace'] as string | undefined,
      })
      const secret = this.secrets.get(`${mount}/${path}`)
      if (!secret) return { status: 404, body: { errors: [] } }
      return {
        status: 200,
        body: {
          request_id: 'fixture',
          lease_id: '',
          renewable: false,
          lease_duration: 0,
          data: {
            data: secret.data,
            metadata: {
              created_time: secret.created_time,
              deletion_time: '',
              destroyed: false,
              version: secret.version,
            },
          },
          wrap_info: null,
          warnings: null,
          auth: null,
        },
      }
    }
    if (request.method === 'POST' || request.method === 'PUT') {
      let raw = ''
      for await (const chunk of request) raw += chunk
      this.write(mount, path, (JSON.parse(raw) as { data: Record<string, unknown> }).data)
      return { status: 200, body: { data: { version: this.secrets.get(`${mount}/${path}`)?.version } } }
    }
    return { status: 405, body: { errors: [] } }
  }
}
