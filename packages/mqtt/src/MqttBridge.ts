import { type AnySubscriptionDefinition, consumerGroupOf } from '@conduit/core'
import { EventBridge } from '@conduit/core/transport'
import type { MqttClient } from 'mqtt'
import type { EventLossRecord } from './EventLoss.js'
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

  /**
   * The events the broker dropped for a durable subscription's sessions, one record per gap,
   * oldest first (retained on the broker until cleared). See docs/bridges/mqtt.md.
   */
  readEventLoss(subscription: AnySubscriptionDefinition | string): Promise<EventLossRecord[]> {
    const group = typeof subscription === 'string' ? subscription : consumerGroupOf(subscription)
    return this.transport.readEventLoss(group)
  }
}
