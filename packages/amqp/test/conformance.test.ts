import { runBridgeConformance } from '@conduit/bridge-conformance'
import { AmqpBridge, AmqpTopology, DEFAULT_AMQP_URL } from '../src/index.js'
import { deleteDeclaredTopology, publishRaw, uniquePrefix } from '../src/testing.js'
import { TcpProxy } from './support/TcpProxy.js'

const url = process.env.CONDUIT_AMQP_URL ?? DEFAULT_AMQP_URL

/**
 * A direct reply-to name in RabbitMQ's own format whose channel does not exist: RabbitMQ 3.10
 * drops a reply published to it (checked with plain amqplib: no channel error, and with
 * `mandatory` it comes back NO_ROUTE), so answering it is harmless.
 */
const NOBODY_LISTENS = 'amq.rabbitmq.reply-to.g1h2AA5yZXBseUAxAAAAAQAAAAAAAAAAAAAAAA=='

// Each test gets its own prefix, so its exchanges and queues are its own; cleanup deletes
// everything its bridges declared. Bridges connect through a TCP relay so that a test can cut
// one bridge's connection like a network fault, without touching the shared broker.
runBridgeConformance({
  name: 'amqp',
  async createNamespace() {
    const prefix = uniquePrefix('conformance')
    const topology = new AmqpTopology(prefix)
    const relay = await TcpProxy.start(url)
    const bridges: AmqpBridge[] = []
    return {
      createBridge(options) {
        const bridge = new AmqpBridge({ ...options, url: relay.url, prefix })
        bridges.push(bridge)
        return bridge
      },
      injectRawCommand: (address, bytes, replyTo) =>
        publishRaw('', topology.commandQueue(address), bytes, replyTo === undefined ? {} : { replyTo }, url),
      replyAddresses: {
        valid: NOBODY_LISTENS,
        hostile: [
          // another service's command queue: a reply there would be a message injected into it
          topology.commandQueue({ service: 'cfcalc', version: '1', command: 'echo' }),
          // a subscription queue of the same namespace
          topology.eventQueue('cfmailer.v1.onCreated'),
          // a lookalike just outside the namespace (RabbitMQ itself refuses a publish naming
          // the bare pseudo-queue from a channel that does not consume it, so that one cannot arrive)
          'amq.rabbitmq.reply-tox',
          // inside the prefix, but not a token RabbitMQ could have issued
          'amq.rabbitmq.reply-to.#*/ not a token',
        ],
      },
      async interruptConnection(bridge) {
        const cut = await relay.cut(bridge.instanceId)
        if (cut === 0) throw new Error(`no connection of bridge ${bridge.instanceId} to cut`)
      },
      injectRawEvent: (eventName, bytes) =>
        publishRaw(topology.eventsExchange, eventName, bytes, { persistent: true }, url),
      async cleanup() {
        await relay.close()
        await deleteDeclaredTopology(
          bridges.map((bridge) => bridge.declaredTopology),
          url,
        )
      },
    }
  },
})
