import { connect, createServer, type Server, type Socket } from 'node:net'
import type { BrokerStall } from './harness.js'

interface Link {
  readonly client: Socket
  readonly upstream: Socket
}

interface Stall {
  held: number
  readonly queued: (() => void)[]
}

/**
 * A TCP relay in front of a broker, for harnesses whose bridges connect through it: a test can
 * stall it (every byte, both ways, is held while the connections stay open, as with a paused
 * broker) and release it. It stalls every connection of the namespace at once.
 */
export class StallableRelay {
  private readonly links = new Set<Link>()
  private stalled: Stall | undefined

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
    const upstream = connect(this.targetPort, this.host)
    const link: Link = { client, upstream }
    this.links.add(link)
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
