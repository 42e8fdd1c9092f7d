import type { AnySubscriptionDefinition } from './types.js'

/**
 * The consumer group of a subscription: `<service>.v<version>.<subscription>`. Bridges use it
 * for queue groups, durable consumer and queue names; it only contains [A-Za-z0-9_.-].
 */
export function consumerGroupOf(subscription: AnySubscriptionDefinition): string {
  return `${subscription.service.name}.v${subscription.service.version}.${subscription.name}`
}
