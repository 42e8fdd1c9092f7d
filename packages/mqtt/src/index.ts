export { type EventLossRecord, LOSS_REASON } from './EventLoss.js'
export { MqttBridge } from './MqttBridge.js'
export { createMqttTransport, type MqttTransport } from './MqttTransport.js'
export {
  DEFAULT_MQTT_URL,
  MQTT_BRIDGE_NAME,
  MQTT_MAX_PACKET_BYTES,
  type MqttBridgeOptions,
  type MqttClientOptions,
} from './options.js'
export { MAX_CORRELATION_DATA_BYTES } from './replies.js'
export {
  assertTopicLevel,
  createTopicScheme,
  InvalidTopicError,
  MAX_RESPONSE_TOPIC_BYTES,
  type TopicScheme,
} from './topics.js'
