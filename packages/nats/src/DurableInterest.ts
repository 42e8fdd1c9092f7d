import type { Logger } from '@conduit/core'
import type { JetStreamManager } from '@nats-io/jetstream'
import type { NatsConnection, Subscription } from '@nats-io/transport-node'
import { type NatsSubjects, subjectMatches } from './subjects.js'

const MAX_CACHED_SUBJECTS = 10_000

/**
 * Which event subjects some durable subscription (a JetStream consumer on the event stream)
 * wants. An emit on such a subject is published through JetStream and waits for the stream's
 * ack; every other emit is a plain core NATS publish, as fast as NATS goes.
 *
 * The knowledge comes from listing the stream's consumers, refreshed by JetStream's consumer
 * created/deleted advisories. If it is briefly stale (a consumer created in another process a
 * moment ago), the event is still stored: the stream captures every event subject, so a core
 * publish lands in it too, only without a confirmation.
 */
export class DurableInterest {
  private filters: string[] = []
  /** consumers this bridge created: known even if a listing raced with their creation */
  private readonly ownFilters = new Set<string>()
  private readonly decisions = new Map<string, boolean>()
  private advisories: Subscription[] = []
  private refreshing: Promise<void> | undefined
  private refreshAgain = false

  constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly subjects: NatsSubjects,
    private readonly logger: Logger,
  ) {}

  /**
   * Watches the event stream's consumers. `onDeleted` hears of a consumer (its name) or the
   * whole stream (undefined) being deleted, so running subscriptions can re-create theirs at once.
   */
  async start(onDeleted: (consumer: string | undefined) => void): Promise<void> {
    const stream = this.subjects.eventStream
    const created = `$JS.EVENT.ADVISORY.CONSUMER.CREATED.${stream}.*`
    const deleted = `$JS.EVENT.ADVISORY.CONSUMER.DELETED.${stream}.*`
    const streamDeleted = `$JS.EVENT.ADVISORY.STREAM.DELETED.${stream}`
    const consumerName = (subject: string) => subject.slice(deleted.length - 1)
    this.advisories = [
      this.nc.subscribe(created, { callback: () => void this.refresh() }),
      this.nc.subscribe(deleted, {
        callback: (_error, msg) => {
          void this.refresh()
          onDeleted(consumerName(msg.subject))
        },
      }),
      this.nc.subscribe(streamDeleted, {
        callback: () => {
          void this.refresh()
          onDeleted(undefined)
        },
      }),
    ]
    await this.refresh()
  }

  stop(): void {
    for (const subscription of this.advisories) subscription.unsubscribe()
    this.advisories = []
  }

  /** true when a durable subscription listens on this event subject */
  covers(subject: string): boolean {
    let decision = this.decisions.get(subject)
    if (decision === undefined) {
      decision = this.filters.some((filter) => subjectMatches(filter, subject))
      if (this.decisions.size >= MAX_CACHED_SUBJECTS) this.decisions.clear()
      this.decisions.set(subject, decision)
    }
    return decision
  }

  /** This bridge created a consumer: know it now rather than when the advisory arrives. */
  add(filter: string): void {
    this.ownFilters.add(filter)
    if (this.filters.includes(filter)) return
    this.filters = [...this.filters, filter]
    this.decisions.clear()
  }

  /** Re-reads the consumers; concurrent calls share one listing and repeat it once if needed. */
  refresh(): Promise<void> {
    if (this.refreshing) {
      this.refreshAgain = true
      return this.refreshing
    }
    this.refreshing = (async () => {
      do {
        this.refreshAgain = false
        await this.readFilters()
      } while (this.refreshAgain)
    })().finally(() => {
      this.refreshing = undefined
    })
    return this.refreshing
  }

  private async readFilters(): Promise<void> {
    const filters: string[] = []
    try {
      for await (const consumer of this.jsm.consumers.list(this.subjects.eventStream)) {
        const { filter_subject: single, filter_subjects: several } = consumer.config
        if (single) filters.push(single)
        if (several) filters.push(...several)
      }
    } catch (error) {
      if (!isNotFound(error)) {
        // Keep what we knew: wrongly assuming no interest would skip the JetStream ack.
        this.logger.warn({ err: error }, 'could not list durable consumers; keeping the previous list')
        return
      }
    }
    for (const filter of this.ownFilters) if (!filters.includes(filter)) filters.push(filter)
    this.filters = filters
    this.decisions.clear()
  }
}

export function isNotFound(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error)
  return /not found/i.test(message)
}
