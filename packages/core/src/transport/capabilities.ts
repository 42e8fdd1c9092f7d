import type { AnySubscriptionDefinition } from '../definitions/types.js'
import { CapabilityError } from '../errors/errors.js'
import { isWildcardPattern } from '../names.js'

/** A capability is present, or absent with a reason the conformance suite prints. */
export type Capability = { readonly supported: true } | { readonly supported: false; readonly reason: string }

export const supported: Capability = Object.freeze({ supported: true })
export function unsupported(reason: string): Capability {
  return Object.freeze({ supported: false, reason })
}

export interface BridgeCapabilities {
  /** commands with responses */
  readonly requestReply: Capability
  /** at-least-once subscriptions that keep events while no instance runs */
  readonly durable: Capability
  /** subscriptions delivered to every instance */
  readonly everyInstance: Capability
  /** `*` / `#` in subscription event patterns */
  readonly wildcards: Capability
  /** an invocation with no handler fails at once with 503 instead of timing out */
  readonly noHandlerDetection: Capability
  /** dead-lettered messages can be read back through the bridge */
  readonly deadLetterInspection: Capability
  /** largest encoded message the bridge carries, in bytes */
  readonly maxPayloadBytes: number
}

export type CapabilityName = Exclude<keyof BridgeCapabilities, 'maxPayloadBytes'>

/** What a subscription definition needs from a bridge. */
export function requiredCapabilities(subscription: AnySubscriptionDefinition): CapabilityName[] {
  const needs: CapabilityName[] = []
  if (subscription.delivery === 'durable') needs.push('durable')
  if (subscription.everyInstance) needs.push('everyInstance')
  if (isWildcardPattern(subscription.event)) needs.push('wildcards')
  return needs
}

/** Throws a CapabilityError naming bridge, subject and capability for the first gap. */
export function assertCapabilities(
  bridge: string,
  capabilities: BridgeCapabilities,
  subject: string,
  needs: CapabilityName[],
): void {
  for (const need of needs) {
    const capability = capabilities[need]
    if (!capability.supported) throw new CapabilityError(bridge, subject, need, capability.reason)
  }
}
