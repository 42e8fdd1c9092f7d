import { connect, createServer, type Server, type Socket } from 'node:net'
import type { BrokerStall } from './harness.js'

/** How much of what a client sends first is kept to tell connections apart (its handshake). */
const GREETING_BYTES = 4096

interface Link {
  readonly client: Socket
  readonly upstream: Socket
  /** the start of what the client sent: an AMQP client names itself there (`connection_name`) */
  greeting: string
}

interface Stall {
  held: number
  readonly queued: (() => void)[]
}

/**
 * A TCP relay in front of a broker, for harnesses whose bridges connect through it: a test can
 * stall it (every byte, both ways, is held while the connections stay open, as with a paused
 * broker) and release it, for every connection at once; or cut the connections whose handshake
 * names a client, the way a network fault does (both sockets destroyed), without touching the
 * broker.
 */
export class StallableRelay {
  private readonly links = new Set<Link>()
  private stalled: Stall | undefined
  private acceptedCount = 0

  private constructor(
    private readonly server: Server,
    private readonly host: string,
    private readonly targetPort: number,
  ) {}

  /** Starts relaying to `host:port`. */
  static async start(host: string, port: number): Promise<StallableRelay> {
    const server = createServer()
    const relay = new StallableRelay(server, host, port)
    server.on('connection', (client) => relay.relay(client))
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', resolve)
    })
    return relay
  }

  /** `target` (a broker URL) with the relay's address instead of the broker's. */
  urlFor(target: string): string {
    const url = new URL(target)
    url.hostname = '127.0.0.1'
    url.port = String(this.port)
    return url.toString().replace(/\/$/, '')
  }

  get port(): number {
    const address = this.server.address()
    if (address === null || typeof address === 'string') throw new Error('the relay is not listening')
    return address.port
  }

  /** Connections accepted so far (each connect attempt of a client counts once). */
  get accepted(): number {
    return this.acceptedCount
  }

  stall(): BrokerStall {
    if (this.stalled) throw new Error('the relay is already stalled')
    const stall: Stall = { held: 0, queued: [] }
    this.stalled = stall
    return {
      held: () => stall.held,
      release: async () => {
        if (this.stalled !== stall) return
        this.stalled = undefined
        for (const forward of stall.queued) forward()
      },
    }
  }

  /** Cuts every connection whose handshake contains `marker`; resolves with how many it cut. */
  async cut(marker: string): Promise<number> {
    const cut = [...this.links].filter((link) => link.greeting.includes(marker))
    await Promise.all(cut.map((link) => destroyed(link)))
    for (const link of cut) this.links.delete(link)
    return cut.length
  }

  async close(): Promise<void> {
    this.stalled = undefined
    for (const { client, upstream } of this.links) {
      client.destroy()
      upstream.destroy()
    }
    this.links.clear()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private relay(client: Socket): void {
    this.acceptedCount++
    const upstream = connect(this.targetPort, this.host)
    const link: Link = { client, upstream, greeting: '' }
    this.links.add(link)
    client.on('data', (chunk: Buffer) => {
      if (link.greeting.length < GREETING_BYTES) link.greeting += chunk.toString('latin1')
    })
    this.forward(client, upstream, true)
    this.forward(upstream, client, false)
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

  private forward(from: Socket, to: Socket, fromClient: boolean): void {
    from.on('data', (chunk: Buffer) => {
      const stall = this.stalled
      if (!stall) {
        to.write(chunk)
        return
      }
      if (fromClient) stall.held += chunk.byteLength
      stall.queued.push(() => {
        if (!to.destroyed) to.write(chunk)
      })
    })
  }
}

/** Destroys both sockets of a link and resolves once both are closed. */
function destroyed(link: Link): Promise<void> {
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
