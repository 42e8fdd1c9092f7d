import { ConduitError } from '@conduit/core'
import {
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  StorageType,
} from '@nats-io/jetstream'
import { type KV, Kvm } from '@nats-io/kv'
import { connect, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node'
import { DEFAULT_NATS_SERVERS } from '../options.js'

/** NATS's default `max_payload`, assumed until the store has talked to its server. */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024
/** room for the headers a conditional write adds (`Nats-Expected-Last-Subject-Sequence`) */
export const HEADER_HEADROOM_BYTES = 1024

const BUCKET = /^[A-Za-z0-9_-]+$/

export interface BucketOptions {
  bucket: string
  connection?: NatsConnection
  servers?: string | string[]
  connectionOptions?: Omit<NodeConnectionOptions, 'servers'>
  history?: number
  storage?: 'file' | 'memory'
  replicas?: number
}

export interface OpenBucket {
  readonly kv: KV
  readonly js: JetStreamClient
  readonly jsm: JetStreamManager
  /** the bucket's stream, `KV_<bucket>` */
  readonly stream: string
}

export function checkBucketName(bucket: string): void {
  if (!BUCKET.test(bucket)) {
    throw new ConduitError(
      500,
      'INVALID_OPTION',
      `Invalid NATS KV bucket ${JSON.stringify(bucket)}: use letters, digits, '_' or '-'`,
      false,
    )
  }
}

/**
 * One bucket opened on first use (created if missing), on the given connection or on one the
 * store opens itself and closes in `close()`. Knows the largest value the server and the bucket's
 * stream take once it has opened them.
 */
export class LazyBucket {
  private ownConnection: NatsConnection | undefined
  private opening: Promise<OpenBucket> | undefined
  private streamMaxMessageBytes = -1

  constructor(private readonly options: BucketOptions) {
    checkBucketName(options.bucket)
  }

  open(): Promise<OpenBucket> {
    this.opening ??= this.connectAndOpen().catch((error) => {
      this.opening = undefined
      throw error
    })
    return this.opening
  }

  /** Largest value a write may carry: the server's max_payload (and the stream's max_msg_size) less header room. */
  get maxValueBytes(): number {
    const connection = this.options.connection ?? this.ownConnection
    let limit = connection?.info?.max_payload ?? DEFAULT_MAX_PAYLOAD
    if (this.streamMaxMessageBytes > 0) limit = Math.min(limit, this.streamMaxMessageBytes)
    return limit - HEADER_HEADROOM_BYTES
  }

  async close(): Promise<void> {
    this.opening = undefined
    const own = this.ownConnection
    this.ownConnection = undefined
    await own?.drain()
  }

  private async connectAndOpen(): Promise<OpenBucket> {
    let nc = this.options.connection
    if (!nc) {
      this.ownConnection = await connect({
        ...this.options.connectionOptions,
        servers: this.options.servers ?? DEFAULT_NATS_SERVERS,
      })
      nc = this.ownConnection
    }
    const { bucket, history, replicas, storage } = this.options
    const kv = await new Kvm(nc).create(bucket, {
      ...(history === undefined ? {} : { history }),
      ...(replicas === undefined ? {} : { replicas }),
      storage: storage === 'memory' ? StorageType.Memory : StorageType.File,
    })
    const jsm = await jetstreamManager(nc)
    const stream = `KV_${bucket}`
    this.streamMaxMessageBytes = (await jsm.streams.info(stream)).config.max_msg_size
    return { kv, js: jetstream(nc), jsm, stream }
  }
}
