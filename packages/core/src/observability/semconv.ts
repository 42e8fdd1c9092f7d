/**
 * The OpenTelemetry semantic-convention names Conduit's spans and metrics use (messaging
 * conventions, as of @opentelemetry/semantic-conventions 1.45), written out so the runtime does
 * not load that package's large incubating entry; semconv.test.ts checks every one against it.
 *
 * Commands and events both follow the messaging conventions, not rpc: both travel as messages
 * over a broker (or the in-process bus), the caller's span is the message's creation context, and
 * one span name scheme serves both ("send <destination>", "process <destination>").
 */
export const ATTR_MESSAGING_SYSTEM = 'messaging.system'
export const ATTR_MESSAGING_OPERATION_TYPE = 'messaging.operation.type'
export const ATTR_MESSAGING_OPERATION_NAME = 'messaging.operation.name'
export const ATTR_MESSAGING_DESTINATION_NAME = 'messaging.destination.name'
export const ATTR_MESSAGING_DESTINATION_TEMPLATE = 'messaging.destination.template'
export const ATTR_MESSAGING_CONSUMER_GROUP_NAME = 'messaging.consumer.group.name'
export const ATTR_MESSAGING_MESSAGE_ID = 'messaging.message.id'
export const ATTR_MESSAGING_MESSAGE_CONVERSATION_ID = 'messaging.message.conversation_id'
export const ATTR_ERROR_TYPE = 'error.type'
export const ATTR_SERVER_ADDRESS = 'server.address'
export const ATTR_SERVER_PORT = 'server.port'

export const MESSAGING_OPERATION_TYPE_VALUE_SEND = 'send'
export const MESSAGING_OPERATION_TYPE_VALUE_PROCESS = 'process'
export const MESSAGING_OPERATION_TYPE_VALUE_SETTLE = 'settle'
export const MESSAGING_SYSTEM_VALUE_RABBITMQ = 'rabbitmq'

export const METRIC_MESSAGING_CLIENT_OPERATION_DURATION = 'messaging.client.operation.duration'
export const METRIC_MESSAGING_PROCESS_DURATION = 'messaging.process.duration'

/**
 * `messaging.system` for a bridge: the conventions' well-known value where one exists (RabbitMQ
 * for the AMQP bridge), else the bridge's own name (`nats`, `mqtt`, `dapr`, `memory`).
 */
export function messagingSystemOf(bridgeName: string): string {
  return bridgeName === 'amqp' ? MESSAGING_SYSTEM_VALUE_RABBITMQ : bridgeName
}
