import { randomUUID } from 'node:crypto'
import type { Logger, Service, ServiceInstance } from '@conduit/core'
import { pino } from 'pino'
import { DaprBridge, type DaprBridgeOptions } from '../../src/index.js'
import { DaprEmulator, type DaprEmulatorOptions, type EmulatedSidecar } from '../../src/testing/index.js'
import { type FakeAnswer, FakeApp, type ReceivedRequest } from './FakeApp.js'

/** Bridges ("processes") and plain apps, each behind its own emulated sidecar, in one isolated emulator. */
export class DaprWorld {
  readonly topicPrefix = `t${randomUUID().slice(0, 8)}.`
  /** every log line of every bridge of this world */
  readonly logs: { msg: string; [key: string]: unknown }[] = []
  readonly logger: Logger = pino(
    { level: 'debug' },
    { write: (line: string) => void this.logs.push(JSON.parse(line)) },
  )
  private readonly bridges: DaprBridge[] = []
  private readonly instances: ServiceInstance[] = []
  private readonly apps: FakeApp[] = []

  private constructor(readonly emulator: DaprEmulator) {}

  static async create(options: DaprEmulatorOptions = {}): Promise<DaprWorld> {
    return new DaprWorld(await DaprEmulator.start({ redeliveryDelayMs: 20, ...options }))
  }

  /** A bridge with its own sidecar; started unless `start: false`. */
  async bridge(
    options: DaprBridgeOptions = {},
    start = true,
  ): Promise<{ bridge: DaprBridge; sidecar: EmulatedSidecar }> {
    const slot: { bridge?: DaprBridge } = {}
    const sidecar = await this.emulator.addSidecar({
      appId: () => slot.bridge?.appId,
      appPort: () => slot.bridge?.appPort,
    })
    const bridge = new DaprBridge({
      daprHttpPort: sidecar.daprHttpPort,
      appPort: 0,
      topicPrefix: this.topicPrefix,
      subscribeSettleMs: 250,
      logger: this.logger,
      ...options,
    })
    slot.bridge = bridge
    this.bridges.push(bridge)
    if (start) await bridge.start()
    return { bridge, sidecar }
  }

  async run(service: Service, bridge: DaprBridge): Promise<ServiceInstance> {
    const instance = await service.getInstance(bridge)
    await instance.start()
    this.instances.push(instance)
    return instance
  }

  /** A plain app (no Conduit) with the sidecar app id `appId`, answering `/dapr/subscribe` with `subscriptions`. */
  async plainApp(
    appId: string,
    subscriptions: object[],
    answer: (request: ReceivedRequest) => FakeAnswer = () => ({ body: { status: 'SUCCESS' } }),
  ): Promise<{ app: FakeApp; sidecar: EmulatedSidecar }> {
    const app = await FakeApp.start((request) =>
      request.url === '/dapr/subscribe' ? { body: subscriptions } : answer(request),
    )
    this.apps.push(app)
    return { app, sidecar: await this.emulator.addSidecar({ appId, appPort: app.port }) }
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.instances.map((instance) => instance.stop()))
    await Promise.allSettled(this.bridges.map((bridge) => bridge.stop()))
    await this.emulator.close()
    await Promise.allSettled(this.apps.map((app) => app.close()))
  }
}
