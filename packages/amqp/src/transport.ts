import {
  type BridgeCapabilities,
  BridgeUnavailableError,
  commandAddressKey,
  encodeEnvelope,
  type Logger,
  supported,
  type Transport,
  type TransportHost,
} from '@conduit/core'
import { AmqpConnection, unavailable } from './AmqpConnection.js'
import { AmqpSession, asBuffer, type DeclaredTopology, TopologyRecord } from './AmqpSession.js'
import type { ConsumerContext } from './ConsumerContext.js'
import { commandConsumer } from './commandConsumer.js'
import { readQueueWithoutConsuming } from './deadLetters.js'
import { eventConsumer } from './eventConsumer.js'
import { OutstandingCommands } from './OutstandingCommands.js'
import { type AmqpBridgeOptions, resolveAmqpOptions } from './options.js'
import { QueueConsumer } from './QueueConsumer.js'
import { AmqpTopology, DIRECT_REPLY_TO, ENVELOPE_CONTENT_TYPE } from './topology.js'

export const AMQP_BRIDGE_NAME = 'amqp'

export function amqpCapabilities(maxPayloadBytes: number): BridgeCapabilities {
  return Object.freeze({
    requestReply: supported,
    durable: supported,
    everyInstance: supported,
    wildcards: supported,
    noHandlerDetection: supported,
    deadLetterInspection: supported,
    maxPayloadBytes,
  })
}

/** The transport behind AmqpBridge, with a view of what it declared on the broker. */
export interface AmqpTransport extends Transport {
  readonly topology: AmqpTopology
  readonly declared: DeclaredTopology
}

interface Connected {
  readonly connection: AmqpConnection<AmqpSession>
  readonly commands: OutstandingCommands
  readonly context: ConsumerContext
}

/** RabbitMQ's per-message TTL is a string of milliseconds; 0 would expire it unless a consumer is idle. */
function ttlUntil(deadline: number | undefined): string | undefined {
  return deadline === undefined ? undefined : String(Math.max(1, deadline - Date.now()))
}

export function createAmqpTransport(options: AmqpBridgeOptions = {}): AmqpTransport {
  const resolved = resolveAmqpOptions(options)
  const topology = new AmqpTopology(resolved.prefix)
  const record = new TopologyRecord()
  let connected: Connected | undefined
  /** consumers not yet retired: disconnect closes their channels before the connection */
  const consumers = new Set<QueueConsumer>()

  async function listen(consumer: QueueConsumer, connection: AmqpConnection<AmqpSession>) {
    await connection.register(consumer)
    consumers.add(consumer)
    void consumer.retired.then(() => consumers.delete(consumer))
    return consumer
  }

  /** The connection state when it can take work right now; BridgeUnavailableError otherwise. */
  function live(): Connected {
    if (connected === undefined || !connected.connection.isReady()) throw unavailable()
    return connected
  }

  function liveSession(): AmqpSession {
    const session = connected?.connection.session
    if (session === undefined || !connected!.connection.isReady()) throw unavailable()
    return session
  }

  function open(host: TransportHost, logger: Logger): Connected {
    const commands = new OutstandingCommands((raw) => host.receiveReply(raw))
    const connection: AmqpConnection<AmqpSession> = new AmqpConnection(
      resolved,
      logger,
      `conduit ${AMQP_BRIDGE_NAME} ${host.instanceId}`,
      {
        openSession: (model) =>
          AmqpSession.open(
            model,
            topology,
            record,
            {
              replied: (message) => commands.replied(message),
              returned: (message) => commands.returned(message),
              channelLost: (lostModel, reason) => connection.recover(lostModel, reason),
            },
            logger,
          ),
        // Replies travel on the direct reply-to of the lost channel: they can no longer arrive.
        lost: (error) => commands.failAll(error),
      },
    )
    return {
      connection,
      commands,
      context: { connection, topology, record, options: resolved, logger },
    }
  }

  return {
    name: AMQP_BRIDGE_NAME,
    capabilities: amqpCapabilities(resolved.maxPayloadBytes),
    topology,
    declared: record,

    async connect(host) {
      const opened = open(host, host.logger)
      await opened.connection.start()
      connected = opened
    },

    async disconnect() {
      const closing = connected
      connected = undefined
      if (closing === undefined) return
      await Promise.allSettled([...consumers].map((consumer) => consumer.shutdown()))
      await closing.connection.close((session) => session.close())
      closing.commands.failAll(
        new BridgeUnavailableError('amqp: the bridge stopped before the response arrived'),
      )
    },

    isReady: () => connected?.connection.isReady() ?? false,
    isHealthy: () => connected?.connection.isConnected() ?? false,

    async sendCommand(address, command) {
      const session = liveSession()
      const { commands } = connected!
      const bytes = asBuffer(encodeEnvelope(command, resolved.maxPayloadBytes, AMQP_BRIDGE_NAME))
      // The command's own id, unique per call, ties a mandatory return to its caller.
      const correlationId = command.id
      const settled = commands.track(
        correlationId,
        commandAddressKey(address),
        command.deadline ?? Number.POSITIVE_INFINITY,
      )
      // Few properties on the hot path: every one is encoded per message; the envelope has the rest.
      const properties = {
        mandatory: true,
        replyTo: DIRECT_REPLY_TO,
        correlationId,
        contentType: ENVELOPE_CONTENT_TYPE,
        expiration: ttlUntil(command.deadline),
      }
      try {
        session.send('', topology.commandQueue(address), bytes, properties)
      } catch (error) {
        commands.fail(correlationId, error)
      }
      return settled
    },

    async listenCommands(address, receive) {
      const { connection, context } = live()
      const consumer = new QueueConsumer(
        commandConsumer(context, address, receive),
        connection,
        resolved.prefetch,
        context.logger,
      )
      return listen(consumer, connection)
    },

    async publishEvent(event) {
      const session = liveSession()
      const bytes = asBuffer(encodeEnvelope(event, resolved.maxPayloadBytes, AMQP_BRIDGE_NAME))
      await session.publish(topology.eventsExchange, event.eventName!, bytes, {
        persistent: true,
        messageId: event.id,
        correlationId: event.correlationId,
        contentType: ENVELOPE_CONTENT_TYPE,
        type: 'event',
      })
    },

    async listenEvents(spec, receive) {
      const { connection, context } = live()
      const consumer = new QueueConsumer(
        eventConsumer(context, spec, receive),
        connection,
        resolved.prefetch,
        context.logger,
      )
      return listen(consumer, connection)
    },

    async readDeadLetters(group) {
      const session = liveSession()
      return readQueueWithoutConsuming(session, topology.deadLetterQueue(group))
    },
  }
}
