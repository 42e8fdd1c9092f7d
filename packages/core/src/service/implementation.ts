import type { EventBridge } from '../bridge/EventBridge.js'
import type { ServiceDefinition } from '../definitions/service.js'
import type {
  AnyCommandDefinition,
  AnySubscriptionDefinition,
  CommandDefinition,
  CommandHandler,
  CommandTypes,
  Schema,
  SubscriptionDefinition,
  SubscriptionHandler,
  SubscriptionTypes,
} from '../definitions/types.js'
import { DefinitionError } from '../errors/errors.js'
import { type InstanceOptions, ServiceInstance } from './ServiceInstance.js'

export interface CommandImplementation {
  readonly definition: AnyCommandDefinition
  readonly handler: CommandHandler<any>
}

export interface SubscriptionImplementation {
  readonly definition: AnySubscriptionDefinition
  readonly handler: SubscriptionHandler<any>
}

/** Pairs a command definition with its handler; the handler is typed by the definition. */
export function handleCommand<T extends CommandTypes>(
  definition: CommandDefinition<T>,
  handler: CommandHandler<T>,
): CommandImplementation {
  return { definition, handler: handler as CommandHandler<any> }
}

/** Pairs a subscription definition with its handler. */
export function handleSubscription<T extends SubscriptionTypes>(
  definition: SubscriptionDefinition<T>,
  handler: SubscriptionHandler<T>,
): SubscriptionImplementation {
  return { definition, handler: handler as SubscriptionHandler<any> }
}

export interface ServiceImplementationSpec {
  commands?: CommandImplementation[]
  subscriptions?: SubscriptionImplementation[]
}

/** A service definition with all its handlers: what `getInstance(bridge)` runs. */
export interface Service {
  readonly definition: ServiceDefinition<Schema | undefined>
  readonly commands: readonly CommandImplementation[]
  readonly subscriptions: readonly SubscriptionImplementation[]
  getInstance(bridge: EventBridge, options?: InstanceOptions): Promise<ServiceInstance>
}

/**
 * Binds handlers to a service definition. Every declared command and subscription must have
 * exactly one handler, and every handler must belong to this service.
 */
export function createService<C extends Schema | undefined>(
  definition: ServiceDefinition<C>,
  spec: ServiceImplementationSpec,
): Service {
  const commands = spec.commands ?? []
  const subscriptions = spec.subscriptions ?? []
  const label = `Service ${definition.name} v${definition.version}`
  checkMatches(label, 'command', definition.commands, commands)
  checkMatches(label, 'subscription', definition.subscriptions, subscriptions)
  const service: Service = {
    definition: definition as ServiceDefinition<Schema | undefined>,
    commands,
    subscriptions,
    async getInstance(bridge, options = {}) {
      return ServiceInstance.create(service, bridge, options)
    },
  }
  return service
}

function checkMatches(
  label: string,
  kind: string,
  declared: readonly { name: string }[],
  implemented: readonly { definition: { name: string } }[],
): void {
  for (const implementation of implemented) {
    if (!declared.includes(implementation.definition)) {
      throw new DefinitionError(
        `${label}: ${kind} "${implementation.definition.name}" is not declared on this service`,
      )
    }
  }
  const names = implemented.map((implementation) => implementation.definition.name)
  const duplicate = names.find((name, index) => names.indexOf(name) !== index)
  if (duplicate) throw new DefinitionError(`${label}: ${kind} "${duplicate}" has more than one handler`)
  const missing = declared.filter((d) => !names.includes(d.name)).map((d) => d.name)
  if (missing.length > 0)
    throw new DefinitionError(`${label}: no handler for ${kind}(s) ${missing.join(', ')}`)
}
