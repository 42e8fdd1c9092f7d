import type { SubscriptionFilter } from '../definitions/types.js'
import type { Envelope } from '../envelope/envelope.js'
import { compileEventPattern } from '../names.js'

/** Builds the consumer-side check of a subscription: exact pattern match and filters. */
export function compileSubscriptionMatcher(
  pattern: string,
  filter: SubscriptionFilter,
): (event: Envelope) => boolean {
  const matchesName = compileEventPattern(pattern)
  const { sender, principalId, tenantId } = filter
  return (event) => {
    if (!matchesName(event.eventName!)) return false
    if (principalId !== undefined && event.principalId !== principalId) return false
    if (tenantId !== undefined && event.tenantId !== tenantId) return false
    if (sender) {
      if (sender.service !== undefined && event.sender.service !== sender.service) return false
      if (sender.version !== undefined && event.sender.version !== sender.version) return false
      if (sender.name !== undefined && event.sender.name !== sender.name) return false
    }
    return true
  }
}
