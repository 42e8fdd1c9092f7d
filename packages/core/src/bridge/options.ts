import type { AnyCommandDefinition, CallOptions, SubscriptionFilter } from '../definitions/types.js'
import type { Sender } from '../envelope/envelope.js'
import type { Logger } from '../observability/logging.js'
import type { CommandAddress, EventListenerSpec } from '../transport/port.js'

export interface EventBridgeOptions {
  logger?: Logger
  /** unique id of this bridge instance (default: random) */
  instanceId?: string
  /** command timeout when neither the definition nor the call sets one; default 30 s */
  defaultTimeout?: number
  /** how long stop() waits for handlers in flight; default 10 s */
  drainTimeout?: number
  /** durable redelivery delay: initialMs * 2^(attempt-1), capped at maxMs; default 200 ms / 30 s */
  retryBackoff?: { initialMs?: number; maxMs?: number }
}

/** Who a message comes from and what it continues (trace, principal, deadline). */
export interface MessageOrigin {
  sender?: Omit<Sender, 'instanceId'>
  principalId?: string | undefined
  tenantId?: string | undefined
  traceparent?: string | undefined
  tracestate?: string | undefined
  /** a child call never outlives its parent's deadline */
  deadline?: number | undefined
  correlationId?: string | undefined
}

export interface InvokeOptions extends CallOptions, MessageOrigin {
  parameter?: Record<string, unknown>
}

export type EmitOptions = MessageOrigin & { headers?: Record<string, string> }

export interface Registration {
  /** Stop taking messages and wait (bounded) for the ones in flight. */
  close(): Promise<void>
}

export interface SubscriptionRegistration extends EventListenerSpec {
  filter: SubscriptionFilter
  /** human name for logs and errors, e.g. `email.v1.sendWelcomeMail` */
  subject: string
}

const addresses = new WeakMap<AnyCommandDefinition, CommandAddress>()
export function addressOf(command: AnyCommandDefinition): CommandAddress {
  let address = addresses.get(command)
  if (!address) {
    address = Object.freeze({
      service: command.service.name,
      version: command.service.version,
      command: command.name,
    })
    addresses.set(command, address)
  }
  return address
}
