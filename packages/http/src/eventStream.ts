import { randomUUID } from 'node:crypto'
import type { Envelope, EventBridge, Logger, Registration, SubscriptionFilter } from '@conduit/core'
import { BridgeUnavailableError, compileEventPattern } from '@conduit/core'
import type { SSEStreamingApi } from 'hono/streaming'
import type { Principal } from './auth.js'

export interface EventStreamOptions {
  /** what the gateway subscribes to on the bridge, e.g. `user.#`; clients narrow it with `?event=` */
  eventPattern: string
  /** sender / principal / tenant filter applied on the bridge side */
  filter?: SubscriptionFilter
  /** route path; default `${prefix}/events` */
  path?: string
  /** default: the gateway's `publicByDefault` */
  public?: boolean
  /**
   * Whether a client may see an event. Default: a client whose principal has a tenant sees only
   * that tenant's events; a client without a tenant sees all.
   */
  authorize?: (event: Envelope, principal: Principal | undefined) => boolean
  /** comment line sent this often so proxies keep the connection; default 15 s */
  heartbeatMs?: number
  /** events buffered for a slow client before it is disconnected; default 1000 */
  maxQueuedPerClient?: number
}

export const defaultEventAuthorization = (event: Envelope, principal: Principal | undefined): boolean =>
  principal?.tenantId === undefined || event.tenantId === principal.tenantId

/** One connected HTTP client: its own filter and an ordered, bounded write queue. */
export class EventStreamClient {
  private stream: SSEStreamingApi | undefined
  private queue: Promise<void>
  private queued = 0
  private closed = false
  private bindStream!: (stream: SSEStreamingApi) => void
  readonly ended: Promise<void>
  private end!: () => void

  constructor(
    private readonly accepts: (event: Envelope) => boolean,
    private readonly maxQueued: number,
  ) {
    // Events may arrive between subscribing and the response stream opening: queue them.
    this.queue = new Promise<SSEStreamingApi>((resolve) => {
      this.bindStream = resolve
    }).then((stream) => {
      this.stream = stream
    })
    this.ended = new Promise((resolve) => {
      this.end = resolve
    })
  }

  attachStream(stream: SSEStreamingApi): void {
    stream.onAbort(() => this.close())
    this.bindStream(stream)
  }

  offer(event: Envelope): void {
    if (this.closed || !this.accepts(event)) return
    const data = JSON.stringify(event.payload ?? null)
    this.write(() => this.stream!.writeSSE({ event: event.eventName!, id: event.id, data }))
  }

  heartbeat(): void {
    this.write(() => this.stream!.write(': ping\n\n').then(() => undefined))
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.end()
  }

  private write(send: () => Promise<void>): void {
    if (this.closed) return
    if (this.queued >= this.maxQueued) {
      // A client that cannot keep up is dropped rather than buffered without bound.
      this.close()
      return
    }
    this.queued++
    this.queue = this.queue
      .then(send)
      .catch(() => this.close())
      .finally(() => {
        this.queued--
      })
  }
}

/**
 * Fans bridge events out to HTTP clients. The gateway holds one `everyInstance` subscription
 * while at least one client is connected, so every gateway process sees every event and an idle
 * gateway costs the bridge nothing.
 */
export class EventStreamHub {
  private readonly clients = new Set<EventStreamClient>()
  private registration: Registration | undefined
  private transitions: Promise<unknown> = Promise.resolve()
  private readonly group = `gateway.sse.${randomUUID()}`

  constructor(
    private readonly bridge: EventBridge,
    private readonly options: EventStreamOptions,
    private readonly logger: Logger,
  ) {}

  get clientCount(): number {
    return this.clients.size
  }

  /** Resolves once the bridge subscription is in place, so no later event is missed. */
  async attach(client: EventStreamClient): Promise<void> {
    if (!this.bridge.isReady()) throw new BridgeUnavailableError(`${this.bridge.name} is not ready`)
    this.clients.add(client)
    try {
      await this.serialize(() => this.subscribe())
    } catch (error) {
      this.clients.delete(client)
      throw error
    }
  }

  detach(client: EventStreamClient): void {
    this.clients.delete(client)
    if (this.clients.size === 0) {
      this.serialize(() => this.unsubscribeIfIdle()).catch((error) =>
        this.logger.warn({ err: error }, 'could not close the event stream subscription'),
      )
    }
  }

  /** Subscriptions and unsubscriptions run one at a time, so a connect racing a last disconnect is safe. */
  private serialize<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.transitions.then(operation)
    this.transitions = result.catch(() => undefined)
    return result
  }

  private async subscribe(): Promise<void> {
    if (this.registration || this.clients.size === 0) return
    this.registration = await this.bridge.registerSubscription(
      {
        group: this.group,
        eventPattern: this.options.eventPattern,
        delivery: 'at-most-once',
        everyInstance: true,
        maxAttempts: 1,
        filter: this.options.filter ?? {},
        subject: `http gateway event stream ${this.options.eventPattern}`,
      },
      async (scope) => {
        for (const client of this.clients) client.offer(scope.message)
      },
    )
  }

  private async unsubscribeIfIdle(): Promise<void> {
    if (this.clients.size > 0 || !this.registration) return
    const registration = this.registration
    this.registration = undefined
    await registration.close()
  }
}

/** A client's own event filter: its `?event=` pattern and the authorization rule. */
export function clientEventFilter(
  pattern: string | undefined,
  principal: Principal | undefined,
  authorize: EventStreamOptions['authorize'],
): (event: Envelope) => boolean {
  const matchesName = pattern === undefined ? () => true : compileEventPattern(pattern)
  const allowed = authorize ?? defaultEventAuthorization
  return (event) => matchesName(event.eventName!) && allowed(event, principal)
}
