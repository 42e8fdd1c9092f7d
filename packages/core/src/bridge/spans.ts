import { commandAddressKey } from '../envelope/envelope.js'
import { SpanKind, startSpan, type TraceCarrier } from '../observability/tracing.js'
import type { CommandAddress } from '../transport/port.js'

/** The caller's span for one invocation. */
export function commandSpan(bridgeName: string, address: CommandAddress, parent: TraceCarrier) {
  const key = commandAddressKey(address)
  return startSpan(
    `send ${key}`,
    SpanKind.CLIENT,
    {
      'messaging.system': bridgeName,
      'messaging.operation.type': 'send',
      'messaging.destination.name': key,
    },
    parent,
  )
}

/** The emitter's span for one event. */
export function publishSpan(bridgeName: string, eventName: string, parent: TraceCarrier) {
  return startSpan(
    `publish ${eventName}`,
    SpanKind.PRODUCER,
    {
      'messaging.system': bridgeName,
      'messaging.operation.type': 'publish',
      'messaging.destination.name': eventName,
    },
    parent,
  )
}
