import type { EventBridge, Service, ServiceInstance } from '@conduit/core'
import { MqttBridge, type MqttBridgeOptions } from '../src/index.js'
import { purgeMqttNamespace, uniqueMqttPrefix } from '../src/testing.js'

export const BROKER_URL = process.env.CONDUIT_MQTT_URL ?? 'mqtt://127.0.0.1:1883'

/**
 * One isolated test world on the shared broker: a unique topic prefix, bridges that model
 * separate processes, and a cleanup that stops them and purges what they left on the broker.
 */
export class MqttWorld {
  readonly prefix = uniqueMqttPrefix('conduit-mqtt-test')
  private readonly bridges: EventBridge[] = []
  private readonly instances: ServiceInstance[] = []

  constructor(private readonly url = BROKER_URL) {}

  unstartedBridge(options: MqttBridgeOptions = {}): MqttBridge {
    const bridge = new MqttBridge({
      url: this.url,
      prefix: this.prefix,
      clientIdBase: 'conduit-test',
      retryBackoff: { initialMs: 50, maxMs: 200 },
      orphanDelay: 1,
      drainTimeout: 5_000,
      ...options,
    })
    this.bridges.push(bridge)
    return bridge
  }

  async bridge(options: MqttBridgeOptions = {}): Promise<MqttBridge> {
    const bridge = this.unstartedBridge(options)
    await bridge.start()
    return bridge
  }

  async run(service: Service, bridge: EventBridge): Promise<ServiceInstance> {
    const instance = await service.getInstance(bridge)
    await instance.start()
    this.instances.push(instance)
    return instance
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.instances.map((instance) => instance.stop()))
    await Promise.allSettled(this.bridges.map((bridge) => bridge.stop()))
    await purgeMqttNamespace(this.prefix, this.url)
  }
}
