import type { TransportListener } from '@conduit/core/transport'
import type { NatsConnection, Subscription } from '@nats-io/transport-node'

/**
 * A core NATS subscription as a listener. Pausing drains it: the server stops sending, and what
 * had arrived is still handed to the engine (which answers commands "stopping" when no local
 * handler is left). Closing finds nothing left to release.
 */
export function coreListener(nc: NatsConnection, subscription: Subscription): TransportListener {
  const release = async () => {
    if (!nc.isClosed() && !subscription.isClosed()) await subscription.drain()
  }
  return { pause: release, close: release }
}
