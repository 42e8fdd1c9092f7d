import { EventBridge } from '@conduit/core'
import { createMqttTransport } from './MqttTransport.js'
import type { MqttBridgeOptions } from './options.js'

/** The protocol engine over an MQTT 5 broker. See docs/bridges/mqtt.md. */
export class MqttBridge extends EventBridge {
  constructor(options: MqttBridgeOptions = {}) {
    super(createMqttTransport(options), options)
  }
}
