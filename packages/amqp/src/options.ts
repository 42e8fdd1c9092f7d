import type { EventBridgeOptions } from '@conduit/core'

export const DEFAULT_AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672'

export interface ReconnectBackoff {
  /** first delay after a connection loss; default 100 ms */
  initialMs?: number
  /**
   * the delay doubles per failed attempt up to this; default 1 s, so a bridge is ready again
   * within about a second of the broker's return however long the outage was
   */
  maxMs?: number
}

export interface AmqpBridgeOptions extends EventBridgeOptions {
  /** broker URL; default `amqp://guest:guest@127.0.0.1:5672` */
  url?: string
  /**
   * Namespaces every exchange and queue the bridge declares (`<prefix>.events`,
   * `<prefix>.cmd.*`, `<prefix>.evt.*`). Bridges that should talk share a prefix; tests use a
   * unique one each. Default `conduit`.
   */
  prefix?: string
  /**
   * Unacknowledged messages per consumer. Commands and durable events are acked after the
   * handler, so this bounds the handlers running at once per command and per subscription.
   * Default 100.
   */
  prefetch?: number
  /** delays between reconnect attempts after the connection is lost */
  reconnect?: ReconnectBackoff
  /** AMQP heartbeat, so a dead TCP peer is noticed within ~2 intervals; default 10 s */
  heartbeatSeconds?: number
  /**
   * Largest encoded envelope the bridge sends. RabbitMQ refuses messages above its
   * `max_message_size` (128 MiB by default); large messages stall a queue for everyone, so the
   * default is 16 MiB.
   */
  maxPayloadBytes?: number
  /**
   * How long the per-instance queues of a durable `everyInstance` subscription outlive their
   * instance (RabbitMQ `x-expires`). They survive a reconnect, and vanish if the instance never
   * comes back. Default 10 minutes.
   */
  everyInstanceQueueExpiryMs?: number
}

export interface ResolvedAmqpOptions {
  readonly url: string
  readonly prefix: string
  readonly prefetch: number
  readonly reconnectInitialMs: number
  readonly reconnectMaxMs: number
  readonly heartbeatSeconds: number
  readonly maxPayloadBytes: number
  readonly everyInstanceQueueExpiryMs: number
}

const PREFIX = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/

export function resolveAmqpOptions(options: AmqpBridgeOptions): ResolvedAmqpOptions {
  const prefix = options.prefix ?? 'conduit'
  if (!PREFIX.test(prefix)) {
    throw new TypeError(`AmqpBridge prefix ${JSON.stringify(prefix)}: use letters, digits, '.', '_' or '-'`)
  }
  const prefetch = options.prefetch ?? 100
  if (!Number.isInteger(prefetch) || prefetch < 1 || prefetch > 65_535) {
    throw new TypeError(`AmqpBridge prefetch must be an integer from 1 to 65535, got ${prefetch}`)
  }
  return {
    url: options.url ?? DEFAULT_AMQP_URL,
    prefix,
    prefetch,
    reconnectInitialMs: options.reconnect?.initialMs ?? 100,
    reconnectMaxMs: options.reconnect?.maxMs ?? 1_000,
    heartbeatSeconds: options.heartbeatSeconds ?? 10,
    maxPayloadBytes: options.maxPayloadBytes ?? 16 * 1024 * 1024,
    everyInstanceQueueExpiryMs: options.everyInstanceQueueExpiryMs ?? 10 * 60_000,
  }
}
