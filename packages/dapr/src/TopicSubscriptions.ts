import { setTimeout as sleep } from 'node:timers/promises'
import { ConduitError } from '@conduit/core'
import type { EventListenerSpec, EventReceiver, TransportListener } from '@conduit/core/transport'
import { AppListener } from './AppListener.js'
import { eventRoute } from './routes.js'

/** One entry of the `GET /dapr/subscribe` answer (programmatic subscription). */
export interface DaprSubscription {
  pubsubname: string
  topic: string
  route: string
  /**
   * `rawPayload`: Dapr hands every message over as it is on the broker (base64 in a wrapper
   * CloudEvent) instead of parsing it as a CloudEvent first. A message Dapr cannot parse would
   * otherwise be retried inside the sidecar forever, out of the bridge's sight.
   */
  metadata: { rawPayload: 'true' }
}

/**
 * Waits until no route has been registered for `quietMs`. Dapr reads `/dapr/subscribe` once;
 * answering after the services started right after `start()` have registered catches them all.
 */
export class SettleWindow {
  private lastChange = Date.now()

  constructor(private readonly quietMs: number) {}

  touch(): void {
    this.lastChange = Date.now()
  }

  async quiet(signal: AbortSignal): Promise<void> {
    for (let left = this.remaining(); left > 0; left = this.remaining())
      await sleep(left, undefined, { signal })
  }

  private remaining(): number {
    return this.quietMs - (Date.now() - this.lastChange)
  }
}

/** The engine's listener for one consumer group of this app. */
export class GroupListener extends AppListener<EventReceiver> {
  constructor(
    readonly spec: EventListenerSpec,
    receive: EventReceiver,
    release: () => void,
  ) {
    super(receive, release)
  }
}

/**
 * The topics this process subscribes to, each with the consumer groups that consume it here
 * (one engine listener per group). Dapr allows one subscription per topic and app, and delivers each message once per app id:
 * several Conduit subscriptions of this app on one event share that delivery.
 */
export class TopicSubscriptions {
  private readonly topics = new Map<string, Map<string, GroupListener>>()
  /** topics in the answer the sidecar last read; undefined until it read one */
  private announced: ReadonlySet<string> | undefined
  private announcedAt: Date | undefined

  constructor(
    private readonly pubsubName: string,
    private readonly settle: SettleWindow,
  ) {}

  /** Adds a group's listener to a topic; refuses a topic the sidecar can no longer learn. */
  add(topic: string, spec: EventListenerSpec, receive: EventReceiver): TransportListener {
    if (this.announced && !this.announced.has(topic)) {
      throw new ConduitError(
        500,
        'DAPR_SUBSCRIPTIONS_ALREADY_READ',
        `The Dapr sidecar read this app's subscriptions (GET /dapr/subscribe) at ${this.announcedAt?.toISOString()} ` +
          `and reads them only once per start; ${spec.group} needs topic "${topic}", which it did not include. ` +
          'Start every service within subscribeSettleMs of the bridge start (or raise it), or restart the sidecar.',
        false,
      )
    }
    let groups = this.topics.get(topic)
    if (!groups) {
      groups = new Map()
      this.topics.set(topic, groups)
    }
    if (groups.has(spec.group)) {
      throw new ConduitError(
        500,
        'DAPR_ROUTE_TAKEN',
        `${spec.group} already listens to ${topic} on this bridge`,
        false,
      )
    }
    const joined = groups
    const listener: GroupListener = new GroupListener(spec, receive, () => {
      if (joined.get(spec.group) === listener) joined.delete(spec.group)
    })
    joined.set(spec.group, listener)
    this.settle.touch()
    return listener
  }

  /** The groups of `topic` with a listener in this process now (paused ones included). */
  listenersOf(topic: string): GroupListener[] {
    return [...(this.topics.get(topic)?.values() ?? [])]
  }

  /** The answer to `GET /dapr/subscribe`, once registrations have settled; recorded as read. */
  async announce(signal: AbortSignal): Promise<DaprSubscription[]> {
    await this.settle.quiet(signal)
    const topics = [...this.topics.keys()]
    this.announced = new Set(topics)
    this.announcedAt = new Date()
    return topics.map((topic) => ({
      pubsubname: this.pubsubName,
      topic,
      route: eventRoute(topic),
      metadata: { rawPayload: 'true' },
    }))
  }
}
