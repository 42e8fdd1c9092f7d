import type { Attributes, Span } from '@opentelemetry/api'
import { commandAddressKey, type Envelope } from '../envelope/envelope.js'
import {
  ATTR_MESSAGING_CONSUMER_GROUP_NAME,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_DESTINATION_TEMPLATE,
  ATTR_MESSAGING_MESSAGE_CONVERSATION_ID,
  ATTR_MESSAGING_MESSAGE_ID,
  ATTR_MESSAGING_OPERATION_NAME,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  MESSAGING_OPERATION_TYPE_VALUE_PROCESS,
  MESSAGING_OPERATION_TYPE_VALUE_SEND,
  messagingSystemOf,
} from '../observability/semconv.js'
import { SpanKind, startSpan, type TraceCarrier } from '../observability/tracing.js'
import type { DestinationTarget, Transport } from '../transport/port.js'

/**
 * Names and attributes of Conduit's messaging spans, in one place (messaging semantic
 * conventions: `send <destination>` PRODUCER on the sending side, `process <destination>`
 * CONSUMER on the handling side, for commands and events alike). The destination is the
 * broker's own name (subject, routing key, topic) when the transport tells it; the logical name
 * is the low-cardinality `messaging.destination.template`.
 */
const MAX_CACHED_DESTINATIONS = 1024

export class MessagingSpans {
  private readonly base: Attributes
  private readonly destinations = new Map<string, string>()

  constructor(private readonly transport: Transport) {
    const server = transport.server
    this.base = {
      [ATTR_MESSAGING_SYSTEM]: messagingSystemOf(transport.name),
      ...(server === undefined ? {} : { [ATTR_SERVER_ADDRESS]: server.address }),
      ...(server?.port === undefined ? {} : { [ATTR_SERVER_PORT]: server.port }),
    }
  }

  /** messaging.system and the server, on every span and metric of this bridge */
  get bridgeAttributes(): Attributes {
    return this.base
  }

  /** The sender's span for one command or event. */
  send(target: DestinationTarget, message: Envelope, parent: TraceCarrier): Span {
    const logical = logicalName(target)
    const destination = this.destination(target, logical)
    return startSpan(
      `${MESSAGING_OPERATION_TYPE_VALUE_SEND} ${destination}`,
      SpanKind.PRODUCER,
      {
        ...this.base,
        [ATTR_MESSAGING_OPERATION_TYPE]: MESSAGING_OPERATION_TYPE_VALUE_SEND,
        [ATTR_MESSAGING_OPERATION_NAME]: MESSAGING_OPERATION_TYPE_VALUE_SEND,
        [ATTR_MESSAGING_DESTINATION_NAME]: destination,
        [ATTR_MESSAGING_DESTINATION_TEMPLATE]: logical,
        [ATTR_MESSAGING_MESSAGE_ID]: message.id,
        [ATTR_MESSAGING_MESSAGE_CONVERSATION_ID]: message.correlationId,
      },
      parent,
    )
  }

  /** The handler's span for one command or event, continuing the message's trace. */
  process(target: DestinationTarget, message: Envelope, group: string | undefined): Span {
    const logical = logicalName(target)
    const destination = this.destination(target, logical)
    return startSpan(
      `${MESSAGING_OPERATION_TYPE_VALUE_PROCESS} ${destination}`,
      SpanKind.CONSUMER,
      {
        ...this.base,
        [ATTR_MESSAGING_OPERATION_TYPE]: MESSAGING_OPERATION_TYPE_VALUE_PROCESS,
        [ATTR_MESSAGING_OPERATION_NAME]: MESSAGING_OPERATION_TYPE_VALUE_PROCESS,
        [ATTR_MESSAGING_DESTINATION_NAME]: destination,
        [ATTR_MESSAGING_DESTINATION_TEMPLATE]: logical,
        [ATTR_MESSAGING_MESSAGE_ID]: message.id,
        [ATTR_MESSAGING_MESSAGE_CONVERSATION_ID]: message.correlationId,
        ...(group === undefined ? {} : { [ATTR_MESSAGING_CONSUMER_GROUP_NAME]: group }),
      },
      message,
    )
  }

  /** Metric attributes for a target and operation: low-cardinality only (no ids). */
  metricAttributes(target: DestinationTarget, operation: 'send' | 'process'): Attributes {
    const logical = logicalName(target)
    return {
      ...this.base,
      [ATTR_MESSAGING_OPERATION_NAME]: operation,
      [ATTR_MESSAGING_DESTINATION_NAME]: this.destination(target, logical),
      [ATTR_MESSAGING_DESTINATION_TEMPLATE]: logical,
    }
  }

  private destination(target: DestinationTarget, logical: string): string {
    let name = this.destinations.get(logical)
    if (name === undefined) {
      name = this.transport.destinationName?.(target) ?? logical
      // event names arrive from the wire (wildcard subscriptions): keep the cache bounded
      if (this.destinations.size >= MAX_CACHED_DESTINATIONS) this.destinations.clear()
      this.destinations.set(logical, name)
    }
    return name
  }
}

export function logicalName(target: DestinationTarget): string {
  return target.kind === 'command' ? commandAddressKey(target.address) : target.eventName
}
