import { EventBridge } from '@conduit/core/transport'
import type { NatsConnection } from '@nats-io/transport-node'
import { createNatsTransport, type NatsTransport } from './NatsTransport.js'
import type { NatsBridgeOptions } from './options.js'

/**
 * The EventBridge over NATS: `new NatsBridge({ servers })` in place of `new DefaultEventBridge()`.
 * The engine (correlation, deadlines, tracing, errors) is core's; this only picks the transport.
 */
export class NatsBridge extends EventBridge<NatsTransport> {
  constructor(options: NatsBridgeOptions = {}) {
    super(createNatsTransport(options), options)
  }

  /** the live nats.js connection (undefined before start / after stop), e.g. for the KV stores */
  get connection(): NatsConnection | undefined {
    return this.transport.connection
  }

  /** the subject/stream prefix this bridge lives under */
  get prefix(): string {
    return this.transport.subjects.prefix
  }
}
