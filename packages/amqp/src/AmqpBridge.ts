import { EventBridge } from '@conduit/core/transport'
import type { DeclaredTopology } from './AmqpSession.js'
import type { AmqpBridgeOptions } from './options.js'
import { type AmqpTransport, createAmqpTransport } from './transport.js'

/**
 * Conduit over RabbitMQ (AMQP 0-9-1). `new AmqpBridge()` talks to a broker on localhost with
 * guest/guest; see docs/bridges/amqp.md for the topology, guarantees and options.
 */
export class AmqpBridge extends EventBridge<AmqpTransport> {
  constructor(options: AmqpBridgeOptions = {}) {
    super(createAmqpTransport(options), options)
  }

  /** The exchanges and queues this bridge declared, by name (inspection and test cleanup). */
  get declaredTopology(): DeclaredTopology {
    return this.transport.declared
  }
}
