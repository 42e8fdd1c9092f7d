import { JetStreamBroker } from './pubsub.js'
import { EmulatedSidecar, type EmulatorContext, type SidecarConfig } from './Sidecar.js'
import { StateTable } from './state.js'

export interface DaprEmulatorOptions {
  /** the NATS server (with JetStream) that backs pub/sub; default `CONDUIT_NATS_URL` or 127.0.0.1:4222 */
  natsServers?: string
  /** pub/sub components; default `pubsub` */
  pubsubNames?: string[]
  /** state store components (in memory); default `statestore` */
  stateStores?: string[]
  /** secret store components and their secrets; default none */
  secretStores?: Record<string, Record<string, string>>
  /** how long a message waits before redelivery after RETRY or a failed delivery; default 100 ms */
  redeliveryDelayMs?: number
  /** largest request body the API accepts (Dapr's `--max-body-size`); default 4 MiB */
  maxBodyBytes?: number
}

/**
 * An emulator of the Dapr sidecar's documented HTTP API, for tests: NOT Dapr. A set of emulated
 * sidecars written from Dapr's API reference (service invocation, publish, programmatic
 * subscriptions with the status contract, state, secrets, metadata, health), sharing name
 * resolution and a real broker (NATS JetStream) for pub/sub. One emulator is one isolated
 * "cluster": its own stream, its own app ids. Where it simplifies daprd (name resolution,
 * resiliency, access control, routing rules, the real components) is listed in
 * docs/bridges/dapr.md; what passes here has not been run against daprd.
 *
 * Published as `@conduit/dapr/testing`. It needs a NATS server with JetStream and the optional
 * peer dependencies `@nats-io/transport-node` and `@nats-io/jetstream`.
 */
export class DaprEmulator implements EmulatorContext {
  readonly pubsubNames: ReadonlySet<string>
  readonly stateTables: ReadonlyMap<string, StateTable>
  readonly secretStores: ReadonlyMap<string, Readonly<Record<string, string>>>
  readonly redeliveryDelayMs: number
  readonly maxBodyBytes: number
  readonly logs: string[] = []
  private readonly sidecars = new Set<EmulatedSidecar>()
  private readonly rotation = new Map<string, number>()

  private constructor(
    readonly broker: JetStreamBroker,
    options: DaprEmulatorOptions,
  ) {
    this.pubsubNames = new Set(options.pubsubNames ?? ['pubsub'])
    this.stateTables = new Map(
      (options.stateStores ?? ['statestore']).map((name) => [name, new StateTable()]),
    )
    this.secretStores = new Map(Object.entries(options.secretStores ?? {}))
    this.redeliveryDelayMs = options.redeliveryDelayMs ?? 100
    this.maxBodyBytes = options.maxBodyBytes ?? 4 * 1024 * 1024
  }

  static async start(options: DaprEmulatorOptions = {}): Promise<DaprEmulator> {
    const servers = options.natsServers ?? process.env.CONDUIT_NATS_URL ?? '127.0.0.1:4222'
    return new DaprEmulator(await JetStreamBroker.open(servers), options)
  }

  /** Starts a sidecar (`dapr run --app-id ... --app-port ...` without the app). */
  async addSidecar(config: SidecarConfig): Promise<EmulatedSidecar> {
    const sidecar = new EmulatedSidecar(this, config)
    await sidecar.start()
    this.sidecars.add(sidecar)
    return sidecar
  }

  /** The largest message the pub/sub broker takes: a bridge's maxPayloadBytes must leave room under it. */
  get brokerMaxMessageBytes(): number {
    return this.broker.maxMessageBytes
  }

  /** Name resolution: the instances of an app id, starting one further at each call. */
  resolve(appId: string): EmulatedSidecar[] {
    const instances = [...this.sidecars].filter((sidecar) => sidecar.appId === appId)
    if (instances.length === 0) return []
    const start = (this.rotation.get(appId) ?? 0) % instances.length
    this.rotation.set(appId, start + 1)
    return [...instances.slice(start), ...instances.slice(0, start)]
  }

  /** Puts bytes on a topic as a producer outside Dapr would: no CloudEvent wrapping. */
  async injectIntoBroker(pubsubName: string, topic: string, bytes: Uint8Array): Promise<void> {
    await this.broker.publish(pubsubName, topic, bytes)
  }

  /** Reads a topic back from the broker, as stored (Dapr's API has no read; this is the broker's). */
  readTopic(pubsubName: string, topic: string): Promise<Uint8Array[]> {
    return this.broker.readTopic(pubsubName, topic)
  }

  log(message: string): void {
    this.logs.push(message)
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.sidecars].map((sidecar) => sidecar.close()))
    this.sidecars.clear()
    await this.broker.close()
  }
}
