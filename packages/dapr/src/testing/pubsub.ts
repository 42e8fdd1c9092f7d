import { createHash, randomUUID } from 'node:crypto'
import type { Agent } from 'node:http'
import type { ConsumerMessages, JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/transport-node'
import { fromRawPayload } from './cloudEvents.js'
import { callApp } from './http.js'

/** The NATS client packages the emulator's broker needs, as loaded. */
interface NatsClient {
  jetstream: typeof import('@nats-io/jetstream')
  transport: typeof import('@nats-io/transport-node')
}

/**
 * The NATS client, loaded when an emulator starts: the packages are optional peer dependencies
 * of @conduit/dapr (only this testing entry needs them), so a missing one gets an install hint.
 */
async function loadNatsClient(): Promise<NatsClient> {
  try {
    const [jetstream, transport] = await Promise.all([
      import('@nats-io/jetstream'),
      import('@nats-io/transport-node'),
    ])
    return { jetstream, transport }
  } catch (error) {
    const { code, message } = error as { code?: unknown; message?: unknown }
    if (code === 'ERR_MODULE_NOT_FOUND' && String(message).includes("'@nats-io/")) {
      throw new Error(
        'DaprEmulator backs its pub/sub component with NATS JetStream and needs the NATS client: ' +
          'npm install --save-dev @nats-io/transport-node @nats-io/jetstream',
        { cause: error },
      )
    }
    throw error
  }
}

/**
 * The broker behind the emulated pub/sub component: one NATS JetStream stream per emulator.
 * It models Dapr's JetStream component (pubsub.jetstream): a durable consumer per app id and
 * topic, shared by that app's instances (one delivery per app id), starting at the beginning
 * of the stream (deliverPolicy all), explicit acks, redelivery after a nak.
 */
export class JetStreamBroker {
  private constructor(
    private readonly nats: NatsClient,
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    readonly stream: string,
    private readonly subjectRoot: string,
  ) {}

  static async open(servers: string): Promise<JetStreamBroker> {
    const nats = await loadNatsClient()
    const { RetentionPolicy, StorageType, jetstream, jetstreamManager } = nats.jetstream
    const { nanos } = nats.transport
    const nc = await nats.transport.connect({ servers })
    const jsm = await jetstreamManager(nc)
    const id = randomUUID().replaceAll('-', '').slice(0, 12)
    const stream = `DAPR_EMULATOR_${id}`
    const subjectRoot = `dapremu.${id}`
    await jsm.streams.add({
      name: stream,
      subjects: [`${subjectRoot}.>`],
      retention: RetentionPolicy.Limits,
      storage: StorageType.Memory,
      max_age: nanos(15 * 60_000),
      allow_direct: true, // lets a test read a topic back (readTopic)
    })
    return new JetStreamBroker(nats, nc, jetstream(nc), jsm, stream, subjectRoot)
  }

  /** The largest message the broker takes (the NATS server's max_payload). */
  get maxMessageBytes(): number {
    return this.nc.info?.max_payload ?? 1024 * 1024
  }

  /** Topics can hold any character; each becomes one subject token. */
  subjectOf(pubsubName: string, topic: string): string {
    return `${this.subjectRoot}.${Buffer.from(pubsubName).toString('base64url')}.${Buffer.from(topic).toString('base64url')}`
  }

  async publish(pubsubName: string, topic: string, data: Uint8Array): Promise<void> {
    await this.js.publish(this.subjectOf(pubsubName, topic), data)
  }

  /** What a topic holds, oldest first, as stored (a test reading the broker with a raw client). */
  async readTopic(pubsubName: string, topic: string): Promise<Uint8Array[]> {
    const subject = this.subjectOf(pubsubName, topic)
    const messages: Uint8Array[] = []
    for (let seq = 1; ; ) {
      const stored = await this.jsm.direct.getMessage(this.stream, { seq, next_by_subj: subject })
      if (stored === null) return messages
      messages.push(stored.data)
      seq = stored.seq + 1
    }
  }

  /** Joins (creating it on first use) the durable consumer of `appId` on a topic. */
  async consume(appId: string, pubsubName: string, topic: string, onMessage: (msg: JsMsg) => void) {
    const { AckPolicy, DeliverPolicy } = this.nats.jetstream
    const { nanos } = this.nats.transport
    const name = `app_${createHash('sha256').update(`${appId}|${pubsubName}|${topic}`).digest('hex').slice(0, 24)}`
    await this.jsm.consumers.add(this.stream, {
      durable_name: name,
      filter_subject: this.subjectOf(pubsubName, topic),
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(30_000),
      max_deliver: -1,
      max_ack_pending: 1_000,
    })
    const consumer = await this.js.consumers.get(this.stream, name)
    return consumer.consume({ max_messages: 100, callback: onMessage })
  }

  async close(): Promise<void> {
    await this.jsm.streams.delete(this.stream).catch(() => undefined)
    await this.nc.close()
  }
}

/** One programmatic subscription as the app declared it in `GET /dapr/subscribe`. */
export interface SubscriptionEntry {
  pubsubname: string
  topic: string
  route?: string
  routes?: { rules?: { match?: string; path: string }[]; default?: string }
  deadLetterTopic?: string
  metadata?: Record<string, string>
}

/** The path Dapr delivers to; routing rules (CEL) are not evaluated here: default, else first rule. */
export function deliveryPath(entry: SubscriptionEntry): string | undefined {
  const path = entry.route || entry.routes?.default || entry.routes?.rules?.[0]?.path
  return path ? (path.startsWith('/') ? path : `/${path}`) : undefined
}

export interface DeliveryTarget {
  agent: Agent
  app: () => { host: string; port: number } | undefined
  broker: JetStreamBroker
  redeliveryDelayMs: number
  log(message: string): void
}

type Verdict = 'ack' | 'retry'

/** Dapr's status contract for the app's answer (docs: reference/api/pubsub_api). */
export function verdictOf(status: number, body: Buffer): Verdict {
  if (status >= 200 && status < 300) {
    let parsed: { status?: unknown } | undefined
    try {
      parsed = JSON.parse(body.toString('utf8')) as { status?: unknown }
    } catch {
      return 'ack' // a 2xx without a readable body is a success
    }
    const answer = typeof parsed === 'object' && parsed !== null ? parsed.status : undefined
    if (answer === undefined || answer === '' || answer === 'SUCCESS' || answer === 'DROP') return 'ack'
    return 'retry' // RETRY, or an unknown status
  }
  return status === 404 ? 'ack' : 'retry' // 404: logged and dropped; anything else is retried
}

/** Delivers one broker message to the app's route and settles it the way the sidecar would; never rejects. */
export async function deliverToApp(
  target: DeliveryTarget,
  entry: SubscriptionEntry,
  msg: JsMsg,
): Promise<void> {
  const path = deliveryPath(entry)!
  let verdict: Verdict
  try {
    const raw = entry.metadata?.rawPayload === 'true'
    // Without rawPayload the sidecar parses the message as a CloudEvent, and retries one it cannot.
    if (!raw) JSON.parse(Buffer.from(msg.data).toString('utf8'))
    const body = raw
      ? Buffer.from(JSON.stringify(fromRawPayload(msg.data, entry.topic, entry.pubsubname)))
      : msg.data
    const app = target.app()
    if (!app) throw new Error('the app is gone')
    const progress = setInterval(() => msg.working(), 10_000)
    try {
      const answer = await callApp(target.agent, app, {
        method: 'POST',
        path,
        headers: { 'content-type': 'application/cloudevents+json' },
        body,
      })
      verdict = verdictOf(answer.status, answer.body)
    } finally {
      clearInterval(progress)
    }
  } catch (error) {
    target.log(`delivery on ${entry.topic} failed: ${(error as Error).message}`)
    verdict = 'retry'
  }
  try {
    await settle(target, entry, msg, verdict)
  } catch (error) {
    // The broker connection closed (the emulator stopping) or the dead-letter publish failed: the
    // message stays unacknowledged and JetStream redelivers it after ack_wait. Never a rejection.
    target.log(`settling a message on ${entry.topic} failed: ${(error as Error).message}`)
  }
}

async function settle(target: DeliveryTarget, entry: SubscriptionEntry, msg: JsMsg, verdict: Verdict) {
  if (verdict === 'ack') {
    msg.ack()
    return
  }
  if (entry.deadLetterTopic) {
    // Without a resiliency policy, a failed message goes straight to the dead-letter topic.
    await target.broker.publish(entry.pubsubname, entry.deadLetterTopic, msg.data)
    msg.ack()
    return
  }
  msg.nak(target.redeliveryDelayMs)
}

export type { ConsumerMessages, JsMsg }
