import { randomUUID } from 'node:crypto'
import type { EventBridge, Registration } from '../bridge/EventBridge.js'
import { consumerGroupOf } from '../definitions/naming.js'
import { ConduitError } from '../errors/errors.js'
import { createDefaultLogger, type Logger } from '../observability/logging.js'
import type { Stores } from '../stores/contracts.js'
import { memoryStores } from '../stores/memory.js'
import { assertCapabilities, requiredCapabilities } from '../transport/capabilities.js'
import type { InstanceRuntime } from './context.js'
import type { Service } from './implementation.js'
import { commandPipeline, subscriptionPipeline } from './pipelines.js'
import { parseValue } from './validation.js'

export interface InstanceOptions {
  logger?: Logger
  stores?: Partial<Stores>
  /** merged over the definition's defaultConfig, then validated by its config schema */
  config?: Record<string, unknown>
}

/** One running copy of a service on one bridge. Run several (in one process or many) to share work. */
export class ServiceInstance {
  /** distinguishes this instance from others of the same service on the same bridge */
  readonly instanceKey = randomUUID()
  private registrations: Registration[] = []
  private running = false

  private constructor(
    readonly service: Service,
    private readonly runtime: InstanceRuntime,
  ) {}

  static async create(
    service: Service,
    bridge: EventBridge,
    options: InstanceOptions,
  ): Promise<ServiceInstance> {
    const definition = service.definition
    const merged =
      definition.configSchema || options.config
        ? { ...((definition.defaultConfig as object | undefined) ?? {}), ...(options.config ?? {}) }
        : undefined
    let config = parseValue(
      definition.configSchema,
      merged,
      'config',
      `${definition.name} v${definition.version}`,
    )
    if (config instanceof Promise) config = await config
    const logger = (options.logger ?? bridge.logger ?? createDefaultLogger()).child({
      service: definition.name,
      version: definition.version,
    })
    return new ServiceInstance(service, {
      bridge,
      logger,
      stores: memoryStores(options.stores),
      config,
      service: definition.name,
      version: definition.version,
    })
  }

  get config(): unknown {
    return this.runtime.config
  }

  get stores(): Stores {
    return this.runtime.stores
  }

  get isRunning(): boolean {
    return this.running
  }

  /**
   * Registers every command and subscription on the bridge. Fails before registering anything
   * if a subscription needs a capability the bridge lacks.
   */
  async start(): Promise<void> {
    if (this.running) throw new ConduitError(500, 'INVALID_STATE', `${this.label} is already running`, false)
    const { bridge } = this.runtime
    for (const { definition } of this.service.subscriptions) {
      assertCapabilities(
        bridge.name,
        bridge.capabilities,
        `subscription ${this.runtime.service}.v${this.runtime.version}.${definition.name}`,
        requiredCapabilities(definition),
      )
    }
    const sender = {
      service: this.runtime.service,
      version: this.runtime.version,
      instanceId: bridge.instanceId,
    }
    // What this service emits is known to the bridge by name, so any emit of it validates.
    for (const { definition } of [...this.service.commands, ...this.service.subscriptions]) {
      bridge.declareEvents(definition.emits)
      if (definition.kind === 'subscription' && definition.output) bridge.declareEvents([definition.output])
    }
    try {
      for (const implementation of this.service.commands) {
        const address = {
          service: sender.service,
          version: sender.version,
          command: implementation.definition.name,
        }
        this.registrations.push(
          await bridge.registerCommand(
            address,
            { ...sender, name: implementation.definition.name },
            commandPipeline(this.runtime, implementation),
          ),
        )
      }
      for (const implementation of this.service.subscriptions) {
        const { definition } = implementation
        const group = consumerGroupOf(definition)
        this.registrations.push(
          await bridge.registerSubscription(
            {
              group: definition.everyInstance ? `${group}.${this.instanceKey}` : group,
              eventPattern: definition.event,
              delivery: definition.delivery,
              everyInstance: definition.everyInstance,
              maxAttempts: definition.maxAttempts,
              filter: definition.filter,
              subject: `subscription ${group}`,
            },
            subscriptionPipeline(this.runtime, implementation),
          ),
        )
      }
    } catch (error) {
      await this.closeRegistrations()
      throw error
    }
    this.running = true
    this.runtime.logger.info('service started')
  }

  /** Stops taking messages and waits (bounded) for handlers in flight. The bridge stays up. */
  async stop(): Promise<void> {
    if (!this.running) return
    this.running = false
    await this.closeRegistrations()
    this.runtime.logger.info('service stopped')
  }

  private async closeRegistrations(): Promise<void> {
    const registrations = this.registrations
    this.registrations = []
    await Promise.allSettled(registrations.map((registration) => registration.close()))
  }

  private get label(): string {
    return `Service ${this.runtime.service} v${this.runtime.version}`
  }
}
