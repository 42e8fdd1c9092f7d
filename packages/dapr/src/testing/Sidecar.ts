import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { connect as connectTcp } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  CLOUD_EVENT_CONTENT_TYPE,
  fromPublishedCloudEvent,
  type PublishContext,
  wrapInCloudEvent,
} from './cloudEvents.js'
import { callApp, newAppAgent, readBody, sendDaprError, sendEmpty, sendJson } from './http.js'
import { handleInvoke, type NameResolution } from './invocation.js'
import {
  type ConsumerMessages,
  deliverToApp,
  deliveryPath,
  type JetStreamBroker,
  type SubscriptionEntry,
} from './pubsub.js'
import { handleSecrets, handleState, type StateTable } from './state.js'

/** What every sidecar of one emulator shares: name resolution, the broker, the components. */
export interface EmulatorContext extends NameResolution {
  readonly broker: JetStreamBroker
  readonly pubsubNames: ReadonlySet<string>
  readonly stateTables: ReadonlyMap<string, StateTable>
  readonly secretStores: ReadonlyMap<string, Readonly<Record<string, string>>>
  readonly redeliveryDelayMs: number
  log(message: string): void
}

export interface SidecarConfig {
  /** `--app-id`; a function when the test learns it later (the app id of the first service started) */
  appId: string | (() => string | undefined)
  /** `--app-port`; a function when the app listens on an ephemeral port; none for a client-only app */
  appPort?: number | (() => number | undefined)
  appHost?: string
}

/**
 * One emulated daprd: the Dapr HTTP API on its own port, and an app channel that, like daprd,
 * waits for the app port to accept connections (polling every 50 ms), then reads
 * `GET /dapr/subscribe` once and starts the subscriptions it declared.
 */
export class EmulatedSidecar {
  readonly agent = newAppAgent()
  /** the subscriptions read from the app (once), as started */
  readonly subscriptions: SubscriptionEntry[] = []
  appChannelReady = false
  /** set once the sidecar has read `GET /dapr/subscribe` (it never reads it again) */
  subscriptionsRead = false
  private readonly server: Server
  private readonly consumers: ConsumerMessages[] = []
  private readonly stopped = new AbortController()
  private publishHold: { held: number; released: Promise<void> } | undefined

  constructor(
    private readonly context: EmulatorContext,
    private readonly config: SidecarConfig,
  ) {
    this.server = createServer((request, response) => {
      this.route(request, response).catch((error) => {
        context.log(`sidecar API ${request.method} ${request.url} failed: ${(error as Error).stack}`)
        sendDaprError(response, 500, 'ERR_INTERNAL', (error as Error).message)
      })
    })
  }

  get appId(): string | undefined {
    return typeof this.config.appId === 'function' ? this.config.appId() : this.config.appId
  }

  /** Where the app channel points, once the app port is known. */
  appTarget(): { host: string; port: number } | undefined {
    const port = typeof this.config.appPort === 'function' ? this.config.appPort() : this.config.appPort
    return port === undefined ? undefined : { host: this.config.appHost ?? '127.0.0.1', port }
  }

  get daprHttpPort(): number {
    return (this.server.address() as AddressInfo).port
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve))
    if (this.config.appPort !== undefined) void this.openAppChannel()
  }

  async close(): Promise<void> {
    this.stopped.abort()
    await Promise.allSettled(this.consumers.map((consumer) => consumer.close()))
    this.server.closeAllConnections()
    await new Promise((resolve) => this.server.close(resolve))
    this.agent.destroy()
  }

  /**
   * A fault for tests: cuts every connection between this sidecar and its app, both ways (the
   * app's calls to the API, the app channel's calls to the app), as a network fault would. Both
   * keep listening, so the next request connects again.
   */
  dropConnections(): void {
    this.server.closeAllConnections()
    const pools = [...Object.values(this.agent.sockets), ...Object.values(this.agent.freeSockets)]
    for (const socket of pools.flat()) socket?.destroy()
  }

  /**
   * A fault for tests: the broker stops confirming. Publish requests are read (their bytes counted
   * in `held`) but neither stored nor answered until `release()`, as when the broker's ack is late.
   */
  holdPublishes(): { held(): number; release(): Promise<void> } {
    let release = () => {}
    const hold = { held: 0, released: new Promise<void>((resolve) => (release = resolve)) }
    this.publishHold = hold
    return {
      held: () => hold.held,
      release: async () => {
        if (this.publishHold === hold) this.publishHold = undefined
        release()
      },
    }
  }

  private async appPortOpen(): Promise<boolean> {
    const target = this.appTarget()
    if (!target) return false
    return new Promise((resolve) => {
      const socket = connectTcp(target.port, target.host)
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    })
  }

  private async openAppChannel(): Promise<void> {
    try {
      while (!(await this.appPortOpen())) await sleep(50, undefined, { signal: this.stopped.signal })
      this.appChannelReady = true
      const answer = await callApp(this.agent, this.appTarget()!, {
        method: 'GET',
        path: '/dapr/subscribe',
        headers: {},
        signal: this.stopped.signal,
      })
      this.subscriptionsRead = true
      if (answer.status !== 200) return // 404: the app subscribes to nothing
      const entries = JSON.parse(answer.body.toString('utf8')) as SubscriptionEntry[]
      const appId = this.appId
      for (const entry of entries) {
        if (!appId) break // no app id, no consumer group
        if (!this.context.pubsubNames.has(entry.pubsubname) || !deliveryPath(entry)) continue
        if (
          this.subscriptions.some(
            (known) => known.pubsubname === entry.pubsubname && known.topic === entry.topic,
          )
        ) {
          this.context.log(`cannot subscribe to topic ${entry.topic}: the subscription already exists`)
          continue
        }
        this.subscriptions.push(entry)
        const target = {
          agent: this.agent,
          app: () => this.appTarget(),
          broker: this.context.broker,
          redeliveryDelayMs: this.context.redeliveryDelayMs,
          log: (message: string) => this.context.log(message),
        }
        this.consumers.push(
          await this.context.broker.consume(appId, entry.pubsubname, entry.topic, (msg) => {
            void deliverToApp(target, entry, msg)
          }),
        )
      }
    } catch (error) {
      if (!this.stopped.signal.aborted) this.context.log(`app channel failed: ${(error as Error).message}`)
    }
  }

  private async route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = request.url ?? '/'
    const path = url.split('?')[0]!
    const segments = path.split('/').slice(1)
    if (segments[0] !== 'v1.0') return sendDaprError(response, 404, 'ERR_NOT_FOUND', `no API at ${path}`)
    const [, api, first, second] = segments
    if (api === 'invoke' && first && second === 'method') {
      const method = url.slice(url.indexOf('/method/') + '/method/'.length)
      return handleInvoke(this.context, this, request, response, decodeURIComponent(first), method)
    }
    if (api === 'publish' && request.method === 'POST') return this.publish(request, response, first, second)
    if (api === 'state' && first)
      return handleState(
        this.context.stateTables,
        request,
        response,
        first,
        second,
        this.context.maxBodyBytes,
      )
    if (api === 'secrets' && first && second)
      return handleSecrets(this.context.secretStores, response, first, second)
    if (api === 'healthz' && request.method === 'GET') {
      const ready = first === 'outbound' || this.config.appPort === undefined || this.appChannelReady
      return ready
        ? sendEmpty(response, 204)
        : sendDaprError(response, 500, 'ERR_HEALTH_NOT_READY', 'dapr is not ready')
    }
    if (api === 'metadata' && request.method === 'GET') return sendJson(response, 200, this.metadata())
    sendDaprError(response, 404, 'ERR_NOT_FOUND', `no API at ${path}`)
  }

  private async publish(request: IncomingMessage, response: ServerResponse, pubsub?: string, topic?: string) {
    const body = await readBody(request, this.context.maxBodyBytes)
    const hold = this.publishHold
    if (hold) {
      hold.held += body.byteLength
      await hold.released
    }
    if (!pubsub || !topic)
      return sendDaprError(response, 404, 'ERR_TOPIC_EMPTY', 'pubsub name or topic is empty')
    const pubsubName = decodeURIComponent(pubsub)
    if (!this.context.pubsubNames.has(pubsubName)) {
      return sendDaprError(response, 400, 'ERR_PUBSUB_NOT_FOUND', `pubsub ${pubsubName} not found`)
    }
    const publishContext: PublishContext = {
      topic: decodeURIComponent(topic),
      pubsubName,
      traceparent: String(request.headers.traceparent ?? ''),
      tracestate: String(request.headers.tracestate ?? ''),
      source: this.appId,
    }
    const raw =
      new URL(request.url ?? '/', 'http://sidecar').searchParams.get('metadata.rawPayload') === 'true'
    const contentType = String(request.headers['content-type'] ?? 'text/plain')
    let data: Uint8Array = body
    if (!raw) {
      let event: Record<string, unknown>
      try {
        event = contentType.startsWith(CLOUD_EVENT_CONTENT_TYPE)
          ? fromPublishedCloudEvent(body, publishContext)
          : wrapInCloudEvent(body, contentType, publishContext)
      } catch (error) {
        return sendDaprError(response, 400, 'ERR_PUBSUB_CLOUD_EVENTS_SER', (error as Error).message)
      }
      data = Buffer.from(JSON.stringify(event))
    }
    try {
      await this.context.broker.publish(pubsubName, publishContext.topic, data)
    } catch (error) {
      return sendDaprError(response, 500, 'ERR_PUBSUB_PUBLISH_MESSAGE', (error as Error).message)
    }
    sendEmpty(response, 204)
  }

  private metadata() {
    const target = this.appTarget()
    return {
      id: this.appId ?? '',
      runtimeVersion: 'conduit-test-emulator',
      components: [
        ...[...this.context.pubsubNames].map((name) => ({ name, type: 'pubsub.jetstream', version: 'v1' })),
        ...[...this.context.stateTables.keys()].map((name) => ({
          name,
          type: 'state.in-memory',
          version: 'v1',
        })),
        ...[...this.context.secretStores.keys()].map((name) => ({
          name,
          type: 'secretstores.local.env',
          version: 'v1',
        })),
      ],
      subscriptions: this.subscriptions.map((entry) => ({
        pubsubname: entry.pubsubname,
        topic: entry.topic,
        rules: { rules: [{ match: '', path: deliveryPath(entry) }] },
        ...(entry.deadLetterTopic ? { deadLetterTopic: entry.deadLetterTopic } : {}),
        type: 'PROGRAMMATIC',
      })),
      appConnectionProperties: target
        ? { port: target.port, protocol: 'http', channelAddress: target.host }
        : { protocol: 'http' },
    }
  }
}
