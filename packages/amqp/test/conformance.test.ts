import { runBridgeConformance } from '@conduit/bridge-conformance'
import { AmqpBridge, AmqpTopology, DEFAULT_AMQP_URL } from '../src/index.js'
import { deleteDeclaredTopology, publishRaw, uniquePrefix } from '../src/testing.js'

const url = process.env.CONDUIT_AMQP_URL ?? DEFAULT_AMQP_URL

// Each test gets its own prefix, so its exchanges and queues are its own; cleanup deletes
// everything its bridges declared.
runBridgeConformance({
  name: 'amqp',
  async createNamespace() {
    const prefix = uniquePrefix('conformance')
    const topology = new AmqpTopology(prefix)
    const bridges: AmqpBridge[] = []
    return {
      createBridge(options) {
        const bridge = new AmqpBridge({ ...options, url, prefix })
        bridges.push(bridge)
        return bridge
      },
      injectRawCommand: (address, bytes) => publishRaw('', topology.commandQueue(address), bytes, {}, url),
      injectRawEvent: (eventName, bytes) =>
        publishRaw(topology.eventsExchange, eventName, bytes, { persistent: true }, url),
      cleanup: () =>
        deleteDeclaredTopology(
          bridges.map((bridge) => bridge.declaredTopology),
          url,
        ),
    }
  },
})
