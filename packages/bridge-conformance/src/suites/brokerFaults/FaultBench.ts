import { type ChildProcess, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import type { EventBridge, EventBridgeOptions, Service, ServiceInstance } from '@conduit/core'
import { pino } from 'pino'
import type { BrokerFaultHarness } from '../../harness.js'
import type { PrivateBroker } from '../../privateBrokers/PrivateBroker.js'
import { TEST_RETRY_BACKOFF } from '../../world.js'
import { faultsService, type TickHandling, tick } from './definitions.js'

const CONSUMER_SCRIPT = fileURLToPath(new URL('./consumerProcess.ts', import.meta.url))

/** Which ticks were handled, how often: lost and duplicates are read from here. */
export class TickLedger {
  readonly counts = new Map<number, number>()
  handled = 0

  add(seq: number): void {
    this.handled++
    this.counts.set(seq, (this.counts.get(seq) ?? 0) + 1)
  }

  missing(acknowledged: Iterable<number>): number[] {
    return [...acknowledged].filter((seq) => !this.counts.has(seq))
  }

  get duplicates(): number {
    return this.handled - this.counts.size
  }
}

/** A consumer running in a child process (see consumerProcess.ts). */
export interface ConsumerProcess {
  readonly child: ChildProcess
  readonly ready: Promise<void>
  handledHere: number
}

/**
 * One private broker for the whole group, and everything a test builds on it; `closeTest()`
 * stops what a test started, `dispose()` the broker too.
 */
export class FaultBench {
  private bridges: EventBridge[] = []
  private instances: ServiceInstance[] = []
  private children: ChildProcess[] = []
  readonly logs: { level: number; msg: string }[] = []
  private readonly logger = pino(
    { level: 'info' },
    { write: (line: string) => this.logs.push(JSON.parse(line)) },
  )

  private constructor(
    readonly harness: BrokerFaultHarness,
    readonly broker: PrivateBroker,
  ) {}

  static async start(harness: BrokerFaultHarness): Promise<FaultBench> {
    return new FaultBench(harness, await harness.startBroker())
  }

  newPrefix(): string {
    return `cff${randomUUID().slice(0, 8)}`
  }

  private async construct(options: Record<string, unknown>): Promise<EventBridge> {
    const { path, exportName } = this.harness.bridgeModule
    const module = (await import(path)) as Record<string, new (options: EventBridgeOptions) => EventBridge>
    const Bridge = module[exportName]
    if (!Bridge) throw new Error(`${path} exports no ${exportName}`)
    const bridge = new Bridge({
      ...options,
      logger: this.logger,
      retryBackoff: TEST_RETRY_BACKOFF,
      drainTimeout: 2_000,
    })
    this.bridges.push(bridge)
    return bridge
  }

  /** A started bridge in namespace `prefix`, with `extra` options merged in. */
  async bridge(prefix: string, extra: Record<string, unknown> = {}): Promise<EventBridge> {
    const bridge = await this.construct({ ...this.harness.bridgeOptions(this.broker.url, prefix), ...extra })
    await bridge.start()
    return bridge
  }

  /** Runs the faults service (ping, durable tick consumer) on `bridge`. */
  async serve(bridge: EventBridge, handling: TickHandling): Promise<ServiceInstance> {
    const instance = await faultsService(handling).getInstance(bridge, { logger: this.logger })
    await instance.start()
    this.instances.push(instance)
    return instance
  }

  /** Runs `service` on `bridge` (stopped with the test). */
  async run(service: Service, bridge: EventBridge): Promise<ServiceInstance> {
    const instance = await service.getInstance(bridge, { logger: this.logger })
    await instance.start()
    this.instances.push(instance)
    return instance
  }

  /** A consumer process on namespace `prefix`; every tick it handles goes into `ledger`. */
  spawnConsumer(prefix: string, ledger: TickLedger, handleMs: number): ConsumerProcess {
    const { path, exportName } = this.harness.bridgeModule
    const options = JSON.stringify(this.harness.bridgeOptions(this.broker.url, prefix))
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', CONSUMER_SCRIPT, path, exportName, options, String(handleMs)],
      { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, CONDUIT_LOG_LEVEL: 'silent' } },
    )
    this.children.push(child)
    const consumer: ConsumerProcess = { child, ready: Promise.resolve(), handledHere: 0 }
    let buffered = ''
    const ready = new Promise<void>((resolve, reject) => {
      child.once('exit', (code, signal) => reject(new Error(`consumer process exited (${code ?? signal})`)))
      child.stdout!.on('data', (chunk: Buffer) => {
        buffered += chunk.toString()
        const lines = buffered.split('\n')
        buffered = lines.pop() ?? ''
        for (const line of lines) {
          if (line === 'ready') resolve()
          const seq = /^handled (\d+)$/.exec(line)?.[1]
          if (seq !== undefined) {
            consumer.handledHere++
            ledger.add(Number(seq))
          }
        }
      })
    })
    ready.catch(() => undefined)
    return Object.assign(consumer, { ready })
  }

  /** Stops what the last test started (children by pid, SIGKILL: they hold nothing of value). */
  async closeTest(): Promise<void> {
    for (const child of this.children)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    this.children = []
    await Promise.allSettled(this.instances.map((instance) => instance.stop()))
    await Promise.allSettled(this.bridges.map((bridge) => bridge.stop()))
    this.instances = []
    this.bridges = []
  }

  async dispose(): Promise<void> {
    await this.closeTest()
    await this.broker.dispose()
  }
}

export interface EmitOutcome {
  seq: number
  startedAt: number
  settledAt: number
  error?: unknown
}

/**
 * Emits ticks 1, 2, 3, ... over `lanes` concurrent lanes until `stop()`, or until `count` were
 * emitted; records each emit's outcome (resolved = acknowledged by the broker).
 */
export class TickStream {
  readonly outcomes: EmitOutcome[] = []
  private next = 1
  private stopped = false
  readonly done: Promise<void>

  constructor(
    private readonly bridge: EventBridge,
    lanes: number,
    private readonly count = Number.POSITIVE_INFINITY,
  ) {
    this.done = Promise.all(Array.from({ length: lanes }, () => this.lane())).then(() => undefined)
  }

  private async lane(): Promise<void> {
    while (!this.stopped && this.next <= this.count) {
      const seq = this.next++
      const startedAt = performance.now()
      try {
        await this.bridge.emit(tick, { seq })
        this.outcomes.push({ seq, startedAt, settledAt: performance.now() })
      } catch (error) {
        this.outcomes.push({ seq, startedAt, settledAt: performance.now(), error })
        // a failed emit is the caller's to retry; pace the lane instead of spinning on a dead broker
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true
    await this.done
  }

  get acknowledged(): number[] {
    return this.outcomes.filter((outcome) => outcome.error === undefined).map((outcome) => outcome.seq)
  }

  get failed(): EmitOutcome[] {
    return this.outcomes.filter((outcome) => outcome.error !== undefined)
  }
}
