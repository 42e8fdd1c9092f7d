import { EventBridge } from '@conduit/core/transport'
import type { MqttClient } from 'mqtt'
import { createMqttTransport, type MqttTransport } from './MqttTransport.js'
import type { MqttBridgeOptions } from './options.js'

/** The protocol engine over an MQTT 5 broker. See docs/bridges/mqtt.md. */
export class MqttBridge extends EventBridge<MqttTransport> {
  constructor(options: MqttBridgeOptions = {}) {
    super(createMqttTransport(options), options)
  }

  /** The mqtt.js client of the main connection (undefined before start), for diagnostics and fault tests. */
  get client(): MqttClient | undefined {
    return this.transport.client
  }
}
