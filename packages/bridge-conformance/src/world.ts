import type { EventBridge, Logger, Service, ServiceInstance } from '@conduit/core'
import { pino } from 'pino'
import { Probe } from './fixtures/services.js'
import type { ConformanceHarness, ConformanceNamespace } from './harness.js'

export interface LogEntry {
  level: number
  msg: string
  [key: string]: unknown
}

/** Fast redelivery so durable tests finish quickly; the backoff shape is still exercised. */
export const TEST_RETRY_BACKOFF = { initialMs: 50, maxMs: 200 }

/**
 * Everything one conformance test uses: an isolated namespace, bridges that model separate
 * processes, a probe the handlers write to, and captured logs. `close()` tears it all down.
 */
export class ConformanceWorld {
  readonly probe = new Probe()
  readonly logs: LogEntry[] = []
  readonly logger: Logger
  private readonly bridges: EventBridge[] = []
  private readonly instances: ServiceInstance[] = []

  private constructor(
    readonly harness: ConformanceHarness,
    readonly namespace: ConformanceNamespace,
  ) {
    const logs = this.logs
    this.logger = pino(
      { level: 'debug' },
      {
        write(line: string) {
          logs.push(JSON.parse(line) as LogEntry)
        },
      },
    )
  }

  static async create(harness: ConformanceHarness): Promise<ConformanceWorld> {
    return new ConformanceWorld(harness, await harness.createNamespace())
  }

  /** A bridge that is not started yet (a new "process"). */
  unstartedBridge(): EventBridge {
    const bridge = this.namespace.createBridge({
      logger: this.logger,
      retryBackoff: TEST_RETRY_BACKOFF,
      drainTimeout: 5_000,
    })
    this.bridges.push(bridge)
    return bridge
  }

  /** A started bridge (a new "process"). */
  async bridge(): Promise<EventBridge> {
    const bridge = this.unstartedBridge()
    await bridge.start()
    return bridge
  }

  /** Starts an instance of `service` on `bridge`. */
  async run(service: Service, bridge: EventBridge): Promise<ServiceInstance> {
    const instance = await service.getInstance(bridge, { logger: this.logger })
    await instance.start()
    this.instances.push(instance)
    return instance
  }

  logged(pattern: RegExp): LogEntry[] {
    return this.logs.filter((entry) => pattern.test(entry.msg))
  }

  async close(): Promise<void> {
    this.probe.releaseAll()
    await Promise.allSettled(this.instances.map((instance) => instance.stop()))
    await Promise.allSettled(this.bridges.map((bridge) => bridge.stop()))
    await this.namespace.cleanup()
  }
}
