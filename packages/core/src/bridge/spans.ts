import { commandAddressKey } from '../envelope/envelope.js'
import { SpanKind, startSpan, type TraceCarrier } from '../observability/tracing.js'
import type { CommandAddress } from '../transport/port.js'

function sendingSpan(
  kind: SpanKind,
  operation: string,
  bridgeName: string,
  destination: string,
  parent: TraceCarrier,
) {
  return startSpan(
    `${operation} ${destination}`,
    kind,
    {
      'messaging.system': bridgeName,
      'messaging.operation.type': operation,
      'messaging.destination.name': destination,
    },
    parent,
  )
}

/** The caller's span for one invocation. */
export function commandSpan(bridgeName: string, address: CommandAddress, parent: TraceCarrier) {
  return sendingSpan(SpanKind.CLIENT, 'send', bridgeName, commandAddressKey(address), parent)
}

/** The emitter's span for one event. */
export function publishSpan(bridgeName: string, eventName: string, parent: TraceCarrier) {
  return sendingSpan(SpanKind.PRODUCER, 'publish', bridgeName, eventName, parent)
}
