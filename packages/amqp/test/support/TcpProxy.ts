import { connect, createServer, type Server, type Socket } from 'node:net'

/** How much of what a client sends first is kept to tell connections apart (its AMQP handshake). */
const GREETING_BYTES = 4096

interface Link {
  readonly client: Socket
  readonly upstream: Socket
  greeting: string
}

/**
 * A TCP relay in front of the broker, so that a test can cut one client's connection the way a
 * network fault does (both sockets destroyed at once) without touching the shared broker. A
 * connection is recognised by what its client sent first: an AMQP client names itself in its
 * handshake (`connection_name`), and AmqpBridge puts its instance id there.
 */
export class TcpProxy {
  private readonly links = new Set<Link>()

  private constructor(
    private readonly server: Server,
    private readonly target: URL,
  ) {}

  /** Starts relaying to the host and port of `target` (an amqp:// URL). */
  static async start(target: string): Promise<TcpProxy> {
    const server = createServer()
    const proxy = new TcpProxy(server, new URL(target))
    server.on('connection', (client) => proxy.relay(client))
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', resolve)
    })
    return proxy
  }

  /** `target` with the relay's address instead of the broker's (credentials and vhost kept). */
  get url(): string {
    const address = this.server.address()
    if (address === null || typeof address === 'string') throw new Error('the relay is not listening')
    const url = new URL(this.target)
    url.hostname = '127.0.0.1'
    url.port = String(address.port)
    return url.toString()
  }

  /** Cuts every connection whose handshake contains `marker`; resolves with how many it cut. */
  async cut(marker: string): Promise<number> {
    const cut = [...this.links].filter((link) => link.greeting.includes(marker))
    await Promise.all(cut.map((link) => this.destroy(link)))
    return cut.length
  }

  async close(): Promise<void> {
    await Promise.all([...this.links].map((link) => this.destroy(link)))
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private relay(client: Socket): void {
    const port = Number(this.target.port || 5672)
    const upstream = connect(port, this.target.hostname)
    const link: Link = { client, upstream, greeting: '' }
    this.links.add(link)
    client.on('data', (chunk: Buffer) => {
      if (link.greeting.length < GREETING_BYTES) link.greeting += chunk.toString('latin1')
    })
    client.pipe(upstream)
    upstream.pipe(client)
    const end = () => {
      this.links.delete(link)
      client.destroy()
      upstream.destroy()
    }
    for (const socket of [client, upstream]) {
      socket.on('error', end)
      socket.on('close', end)
    }
  }

  private destroy(link: Link): Promise<void> {
    this.links.delete(link)
    const closed = [link.client, link.upstream].map(
      (socket) =>
        new Promise<void>((resolve) => {
          if (socket.destroyed && socket.closed) resolve()
          else socket.once('close', () => resolve())
        }),
    )
    link.client.destroy()
    link.upstream.destroy()
    return Promise.all(closed).then(() => undefined)
  }
}
