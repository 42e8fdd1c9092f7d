import { AmqpBridge } from '@conduit/amqp'
import { DefaultEventBridge, type EventBridge } from '@conduit/core'
import { MqttBridge } from '@conduit/mqtt'
import { NatsBridge } from '@conduit/nats'

export type BridgeKind = 'nats' | 'amqp' | 'mqtt' | 'memory'

/**
 * The one line of main.ts that picks the transport, read from CONDUIT_BRIDGE here so the same
 * processes run on every broker. CONDUIT_PREFIX namespaces subjects/queues/topics, so several
 * copies of the example (or test runs) can share one broker without seeing each other.
 */
export function createBridge(kind = (process.env.CONDUIT_BRIDGE ?? 'nats') as BridgeKind): EventBridge {
  const prefix = process.env.CONDUIT_PREFIX
  switch (kind) {
    case 'nats':
      return new NatsBridge({
        servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
        prefix,
        // how soon a durable event unacked by a dead instance goes to another (default 10 s)
        durable: { ackWaitMs: Number(process.env.NATS_ACK_WAIT_MS ?? 10_000) },
      })
    case 'amqp':
      return new AmqpBridge({ url: process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672', prefix })
    case 'mqtt':
      return new MqttBridge({ url: process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883', prefix })
    case 'memory':
      return new DefaultEventBridge()
    default:
      throw new Error(`CONDUIT_BRIDGE=${String(kind)}: use nats, amqp, mqtt or memory`)
  }
}
