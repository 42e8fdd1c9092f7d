import { NoHandlerError } from '@conduit/core'
import {
  type BridgeCapabilities,
  serverAddressOf,
  supported,
  type Transport,
  type TransportHost,
} from '@conduit/core/transport'
import type { Message } from 'amqplib'
import { AmqpConnection, unavailable } from './AmqpConnection.js'
import { AmqpSession, asBuffer, type DeclaredTopology, TopologyRecord } from './AmqpSession.js'
import type { ConsumerContext } from './ConsumerContext.js'
import { commandConsumer } from './commandConsumer.js'
import { readQueueWithoutConsuming } from './deadLetters.js'
import { eventConsumer } from './eventConsumer.js'
import { type AmqpBridgeOptions, resolveAmqpOptions } from './options.js'
import { type ConsumerSetup, QueueConsumer } from './QueueConsumer.js'
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
  readonly context: ConsumerContext
}

/** RabbitMQ's per-message TTL is a string of milliseconds; 0 would expire it unless a consumer is idle. */
function ttlUntil(deadline: number | undefined): string | undefined {
  return deadline === undefined ? undefined : String(Math.max(1, deadline - Date.now()))
}

/** amqplib's types omit the fields of basic.return; replyText is e.g. NO_ROUTE. */
interface ReturnedFields {
  readonly routingKey: string
  readonly replyText?: string
}

/**
 * A mandatory command came back: no queue is bound for it, so no instance serves the command.
 * Commands carry their envelope id as `messageId`, which is all the engine needs to fail the call.
 */
function commandReturned(host: TransportHost, message: Message): void {
  const commandId: unknown = message.properties.messageId
  if (typeof commandId !== 'string') return // only commands are published mandatory
  const fields: ReturnedFields = message.fields
  const why = fields.replyText ?? 'unroutable'
  host.failCall(
    commandId,
    new NoHandlerError(`No handler for ${fields.routingKey} on amqp (RabbitMQ returned it: ${why})`),
  )
}

export function createAmqpTransport(options: AmqpBridgeOptions = {}): AmqpTransport {
  const resolved = resolveAmqpOptions(options)
  const topology = new AmqpTopology(resolved.prefix)
  const record = new TopologyRecord()
  let connected: Connected | undefined
  /** consumers not closed yet: disconnect closes their channels before the connection */
  const consumers = new Set<QueueConsumer>()

  /** The connection state when it can take work right now; BridgeUnavailableError otherwise. */
  function live(): Connected {
    if (connected === undefined || !connected.connection.isReady()) throw unavailable()
    return connected
  }

  function liveSession(): AmqpSession {
    const session = live().connection.session
    if (session === undefined) throw unavailable()
    return session
  }

  async function listen({ connection, context }: Connected, setup: ConsumerSetup) {
    const consumer = new QueueConsumer(setup, connection, resolved.prefetch, context.logger, (...failure) =>
      context.host.reportFailure(...failure),
    )
    await connection.register(consumer)
    consumers.add(consumer)
    return {
      pause: () => consumer.pause(),
      close: async () => {
        await consumer.close()
        consumers.delete(consumer)
      },
    }
  }

  function open(host: TransportHost): Connected {
    const { logger } = host
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
              replied: (message) => host.receiveReply(message.content),
              returned: (message) => commandReturned(host, message),
              channelLost: (lostModel, reason) => connection.recover(lostModel, reason),
            },
            logger,
          ),
        // Replies travel on the direct reply-to of the lost channel: they can no longer arrive.
        lost: (reason) => host.repliesLost(`connection to RabbitMQ lost (${reason})`),
      },
    )
    return { connection, context: { connection, topology, record, options: resolved, logger, host } }
  }

  return {
    name: AMQP_BRIDGE_NAME,
    capabilities: amqpCapabilities(resolved.maxPayloadBytes),
    server: serverAddressOf(resolved.url, 5672),
    // RabbitMQ's convention: `<exchange>:<routing key>` for events; commands go to their queue
    destinationName: (target) =>
      target.kind === 'command'
        ? topology.commandQueue(target.address)
        : `${topology.eventsExchange}:${target.eventName}`,
    topology,
    declared: record,

    async connect(host) {
      const opened = open(host)
      await opened.connection.start()
      connected = opened
    },

    async disconnect() {
      const closing = connected
      connected = undefined
      if (closing === undefined) return
      // The engine closed its listeners after draining; these are any it could not.
      await Promise.allSettled([...consumers].map((consumer) => consumer.close()))
      consumers.clear()
      await closing.connection.close((session) => session.close())
    },

    isReady: () => connected?.connection.isReady() ?? false,
    // Alive while started: the connection reconnects forever (capped backoff), it never gives up.
    isHealthy: () => connected !== undefined,

    async sendCommand(address, command) {
      const session = liveSession()
      // Few properties on the hot path: every one is encoded per message; the envelope has the
      // rest. The envelope id ties a mandatory return to its call; the reply names it in inReplyTo.
      session.send('', topology.commandQueue(address), asBuffer(command.bytes), {
        mandatory: true,
        replyTo: DIRECT_REPLY_TO,
        messageId: command.envelope.id,
        contentType: ENVELOPE_CONTENT_TYPE,
        expiration: ttlUntil(command.envelope.deadline),
      })
    },

    async listenCommands(address, receive) {
      const current = live()
      return listen(current, commandConsumer(current.context, address, receive))
    },

    async publishEvent(event) {
      const session = liveSession()
      const { envelope } = event
      if (envelope.eventName === undefined) throw new TypeError('amqp: an event needs an eventName')
      await session.publish(topology.eventsExchange, envelope.eventName, asBuffer(event.bytes), {
        persistent: true,
        messageId: envelope.id,
        correlationId: envelope.correlationId,
        contentType: ENVELOPE_CONTENT_TYPE,
        type: 'event',
      })
    },

    async listenEvents(spec, receive) {
      const current = live()
      return listen(current, eventConsumer(current.context, spec, receive))
    },

    async readDeadLetters(group) {
      return readQueueWithoutConsuming(liveSession(), topology.deadLetterQueue(group))
    },
  }
}
