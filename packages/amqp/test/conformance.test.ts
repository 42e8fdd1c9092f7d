import { fileURLToPath } from 'node:url'
import { PrivateRabbitNode, runBridgeConformance, StallableRelay } from '@conduit/bridge-conformance'
import { AmqpBridge, AmqpTopology, DEFAULT_AMQP_URL } from '../src/index.js'
import {
  connectAmqp,
  deleteDeclaredTopology,
  publishRaw,
  uniquePrefix,
  withBrokerChannel,
} from '../src/testing.js'

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
  // A private RabbitMQ node (own node name, ports, mnesia) the broker-fault group kills and restarts.
  brokerFaults: PrivateRabbitNode.unavailable()
    ? { notApplicable: `no private RabbitMQ node can run here: ${PrivateRabbitNode.unavailable()}` }
    : {
        startBroker: () => PrivateRabbitNode.start(),
        bridgeModule: {
          path: fileURLToPath(new URL('../src/index.ts', import.meta.url)),
          exportName: 'AmqpBridge',
        },
        bridgeOptions: (brokerUrl, prefix) => ({ url: brokerUrl, prefix }),
        givingUp: {
          notApplicable:
            'the AMQP bridge reconnects forever with capped backoff (reconnect.maxMs); it has no give-up state to report',
        },
        defaultQueueLimit: {
          events: 1_000,
          source:
            'RabbitMQ sets no queue length limit by default (x-max-length unset): 1000, as on the other brokers',
        },
        emitWaitBoundMs: 5_000,
      },
  async createNamespace() {
    const prefix = uniquePrefix('conformance')
    const topology = new AmqpTopology(prefix)
    // Bridges connect through a relay that can cut one bridge's connection or stall all traffic
    // (publisher confirms included).
    const relay = await StallableRelay.start(new URL(url).hostname, Number(new URL(url).port || 5672))
    const bridgeUrl = relay.urlFor(url)
    const bridges: AmqpBridge[] = []
    const track = (bridge: AmqpBridge) => {
      bridges.push(bridge)
      return bridge
    }
    return {
      createBridge: (options) => track(new AmqpBridge({ ...options, url: bridgeUrl, prefix })),
      injectRawCommand: (address, bytes, replyTo) =>
        publishRaw('', topology.commandQueue(address), bytes, replyTo === undefined ? {} : { replyTo }, url),
      // Plain amqplib asks through direct reply-to, as a foreign caller would, and keeps the reply's bytes.
      captureReply: (address, bytes, timeoutMs) =>
        withBrokerChannel(url, async (channel) => {
          const directReplyTo = 'amq.rabbitmq.reply-to'
          let arrived: (bytes: Uint8Array) => void = () => undefined
          const reply = new Promise<Uint8Array>((resolve, reject) => {
            arrived = resolve
            setTimeout(() => reject(new Error(`no reply within ${timeoutMs} ms`)), timeoutMs).unref()
          })
          // RabbitMQ takes a publish naming direct reply-to only from a channel that consumes it.
          await channel.consume(
            directReplyTo,
            (message) => message && arrived(new Uint8Array(message.content)),
            {
              noAck: true,
            },
          )
          channel.publish('', topology.commandQueue(address), Buffer.from(bytes), { replyTo: directReplyTo })
          return reply
        }),
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
      // The group's dead-letter queue, read with plain amqplib: fetched unacked, so closing the
      // connection puts every message back.
      async readRawDeadLetters(group) {
        const model = await connectAmqp(url)
        model.on('error', () => undefined)
        try {
          const channel = await model.createChannel()
          channel.on('error', () => undefined)
          const queue = topology.deadLetterQueue(group)
          if (
            !(await channel.checkQueue(queue).then(
              () => true,
              () => false,
            ))
          )
            return []
          const letters: Uint8Array[] = []
          for (
            let message = await channel.get(queue);
            message !== false;
            message = await channel.get(queue)
          ) {
            letters.push(message.content)
          }
          return letters
        } finally {
          await model.close().catch(() => undefined)
        }
      },
      stallBroker: async () => relay.stall(),
      createBridgeWithPayloadLimit: (options, maxPayloadBytes) =>
        track(new AmqpBridge({ ...options, url: bridgeUrl, prefix, maxPayloadBytes })),
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
