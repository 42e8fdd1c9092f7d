import {
  type AnyEventDefinition,
  type AnySubscriptionDefinition,
  compileEventPattern,
  DefinitionError,
  isWildcardPattern,
  type Schema,
  type ServiceDefinition,
} from '@conduit/core'

/** One event name of the system: its schema and who emits it. */
export interface CatalogEvent {
  readonly name: string
  readonly schema: Schema | undefined
  readonly description: string | undefined
  /** `service vN command` labels of the handlers that declare it */
  readonly emittedBy: string[]
}

/**
 * Every event the definitions name: those given, those commands and subscriptions declare in
 * `emits` or `output`, and exact event names subscriptions listen to. One definition per name.
 */
export function catalogEvents(
  services: readonly ServiceDefinition<any>[],
  extra: readonly AnyEventDefinition[],
): Map<string, CatalogEvent> {
  const events = new Map<string, CatalogEvent>()
  const declare = (definition: AnyEventDefinition, emitter?: string): void => {
    const known = events.get(definition.name)
    if (known?.schema && known.schema !== definition.schema) {
      throw new DefinitionError(`Event ${definition.name} is defined twice, with different schemas`)
    }
    const entry = known?.schema
      ? known
      : {
          name: definition.name,
          schema: definition.schema,
          description: definition.description,
          emittedBy: known?.emittedBy ?? [],
        }
    if (emitter && !entry.emittedBy.includes(emitter)) entry.emittedBy.push(emitter)
    events.set(definition.name, entry)
  }
  for (const definition of extra) declare(definition)
  for (const service of services) {
    for (const handler of [...service.commands, ...service.subscriptions]) {
      const label = `${service.name} v${service.version} ${handler.name}`
      for (const event of handler.emits) declare(event, label)
      if (handler.kind === 'subscription' && handler.output) declare(handler.output, label)
    }
  }
  for (const service of services) {
    for (const subscription of service.subscriptions) {
      if (isWildcardPattern(subscription.event) || events.has(subscription.event)) continue
      // an event known only by name: its schema is what the subscription accepts
      events.set(subscription.event, {
        name: subscription.event,
        schema: subscription.input ?? undefined,
        description: undefined,
        emittedBy: [],
      })
    }
  }
  return events
}

/** The catalog's event names a subscription receives (one, or several for a pattern). */
export function eventsOf(
  subscription: AnySubscriptionDefinition,
  events: Map<string, CatalogEvent>,
): string[] {
  if (!isWildcardPattern(subscription.event)) return [subscription.event]
  const pattern = compileEventPattern(subscription.event)
  return [...events.keys()].filter(pattern)
}
