export { MqttBridge } from './MqttBridge.js'
export { createMqttTransport, MQTT_BRIDGE_NAME } from './MqttTransport.js'
export {
  DEFAULT_MQTT_URL,
  MQTT_MAX_PACKET_BYTES,
  type MqttBridgeOptions,
  type MqttClientOptions,
} from './options.js'
export { assertTopicLevel, createTopicScheme, InvalidTopicError, type TopicScheme } from './topics.js'
