import { setTimeout as sleep } from 'node:timers/promises'
import { ConduitError, type EventListenerSpec, type EventReceiver } from '@conduit/core'
import { eventRoute } from './routes.js'

/** One entry of the `GET /dapr/subscribe` answer (programmatic subscription). */
export interface DaprSubscription {
  pubsubname: string
  topic: string
  route: string
}

/** A Conduit consumer group inside this process: its receivers share each delivery round-robin. */
export class LocalGroup {
  receivers: EventReceiver[] = []
  private next = 0

  constructor(readonly spec: EventListenerSpec) {}

  pick(): EventReceiver | undefined {
    return this.receivers.length === 0 ? undefined : this.receivers[this.next++ % this.receivers.length]
  }
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

/**
 * The topics this process subscribes to, each with the consumer groups that consume it here.
 * Dapr allows one subscription per topic and app, and delivers each message once per app id:
 * several Conduit subscriptions of this app on one event share that delivery.
 */
export class TopicSubscriptions {
  private readonly topics = new Map<string, Map<string, LocalGroup>>()
  /** topics in the answer the sidecar last read; undefined until it read one */
  private announced: ReadonlySet<string> | undefined
  private announcedAt: Date | undefined

  constructor(
    private readonly pubsubName: string,
    private readonly settle: SettleWindow,
  ) {}

  /** Adds a receiver to a group of a topic; refuses a topic the sidecar can no longer learn. */
  add(topic: string, spec: EventListenerSpec, receiver: EventReceiver): () => void {
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
    let group = groups.get(spec.group)
    if (!group) {
      group = new LocalGroup(spec)
      groups.set(spec.group, group)
    }
    group.receivers.push(receiver)
    this.settle.touch()
    const joined = group
    return () => {
      joined.receivers = joined.receivers.filter((candidate) => candidate !== receiver)
    }
  }

  /** The groups of `topic` that have a receiver in this process now. */
  liveGroups(topic: string): LocalGroup[] {
    return [...(this.topics.get(topic)?.values() ?? [])].filter((group) => group.receivers.length > 0)
  }

  /** The answer to `GET /dapr/subscribe`, once registrations have settled; recorded as read. */
  async announce(signal: AbortSignal): Promise<DaprSubscription[]> {
    await this.settle.quiet(signal)
    const topics = [...this.topics.keys()]
    this.announced = new Set(topics)
    this.announcedAt = new Date()
    return topics.map((topic) => ({ pubsubname: this.pubsubName, topic, route: eventRoute(topic) }))
  }

  get announcedTopics(): ReadonlySet<string> | undefined {
    return this.announced
  }
}
