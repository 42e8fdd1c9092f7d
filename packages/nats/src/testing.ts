import { randomBytes } from 'node:crypto'
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import { DEFAULT_NATS_SERVERS } from './options.js'
import { NatsSubjects } from './subjects.js'

// Helpers for tests and benchmarks (the `@conduit/nats/testing` entry), never needed at runtime.

export { AckPolicy, jetstream, jetstreamManager, RetentionPolicy } from '@nats-io/jetstream'
export { Kvm } from '@nats-io/kv'
export { connect, type NatsConnection } from '@nats-io/transport-node'

/** A prefix no other test (or run) uses: every subject, stream and consumer lives under it. */
export function uniquePrefix(label = 't'): string {
  return `${label}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`
}

/** A plain nats.js connection for what tests do beside the bridge: raw publishes, inspection, cleanup. */
export class NatsAdmin {
  private constructor(
    readonly nc: NatsConnection,
    readonly jsm: JetStreamManager,
  ) {}

  static async connect(servers: string | string[] = DEFAULT_NATS_SERVERS): Promise<NatsAdmin> {
    const nc = await connect({ servers })
    try {
      return new NatsAdmin(nc, await jetstreamManager(nc))
    } catch (error) {
      await nc.close() // a server without JetStream
      throw error
    }
  }

  async streamExists(name: string): Promise<boolean> {
    try {
      await this.jsm.streams.info(name)
      return true
    } catch {
      return false
    }
  }

  /** Deletes the streams (and with them the consumers) bridges created under `prefix`. */
  async deleteNamespace(prefix: string): Promise<void> {
    const subjects = new NatsSubjects(prefix)
    for (const stream of [subjects.eventStream, subjects.deadLetterStream]) {
      await this.jsm.streams.delete(stream).catch(() => false)
    }
  }

  async close(): Promise<void> {
    await this.nc.drain()
  }
}
