import { BridgeUnavailableError, ConduitError } from '@conduit/core'
import {
  type BridgeCapabilities,
  type OutboundMessage,
  serverAddressOf,
  supported,
  type Transport,
  type TransportHost,
  type TransportListener,
  unsupported,
} from '@conduit/core/transport'
import { type JetStreamClient, type JetStreamManager, jetstreamManager } from '@nats-io/jetstream'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import { listenAtMostOnce } from './AtMostOnceEvents.js'
import { CommandChannel } from './CommandChannel.js'
import { DeadLetters } from './DeadLetters.js'
import { DurableInterest } from './DurableInterest.js'
import { type DurableEnvironment, DurableSubscription } from './DurableSubscription.js'
import { JetStreamPublisher } from './JetStreamPublisher.js'
import { JetStreamTopology } from './JetStreamTopology.js'
import {
  connectionOptions,
  DEFAULT_NATS_PREFIX,
  DEFAULT_NATS_SERVERS,
  NATS_BRIDGE_NAME,
  type NatsBridgeOptions,
  resolveDurableOptions,
} from './options.js'
import { NatsSubjects } from './subjects.js'

/** NATS' default max_payload, used until the server tells its own */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024
const RECREATE_AFTER_DELETE_MS = 1000
/**
 * How long a reconnected bridge waits for JetStream re-declarations before it reports ready. A
 * server restarting with a large store can take seconds to serve JetStream again; commands and
 * at-most-once events should not wait that long (ready within 2 s of the server's return is a
 * conformance rule), and the re-declarations carry on in the background.
 */
const REDECLARE_WAIT_MS = 1000

/** The NATS transport, plus the live connection for stores and tools that want to share it. */
export interface NatsTransport extends Transport {
  /** the nats.js connection while connected */
  readonly connection: NatsConnection | undefined
  readonly subjects: NatsSubjects
}

interface Connected {
  readonly nc: NatsConnection
  readonly host: TransportHost
  readonly commands: CommandChannel
  /** undefined when the server runs without JetStream */
  readonly durable: DurableEnvironment | undefined
  readonly jetStreamPublisher: JetStreamPublisher | undefined
}

function natsCapabilities(maxPayloadBytes: number, jetStream: boolean): BridgeCapabilities {
  const withoutJetStream = unsupported('the NATS server runs without JetStream (start it with -js)')
  return Object.freeze({
    requestReply: supported,
    durable: jetStream ? supported : withoutJetStream,
    everyInstance: supported,
    wildcards: supported,
    noHandlerDetection: supported,
    deadLetterInspection: jetStream ? supported : withoutJetStream,
    maxPayloadBytes,
  })
}

/** Commands on core request/reply, at-most-once events on core subjects, durable ones on JetStream. */
export function createNatsTransport(options: NatsBridgeOptions = {}): NatsTransport {
  const subjects = new NatsSubjects(options.prefix ?? DEFAULT_NATS_PREFIX)
  const durableOptions = resolveDurableOptions(options.durable)
  let capabilities = natsCapabilities(DEFAULT_MAX_PAYLOAD, true)
  let live: Connected | undefined
  let connected = false
  const durableListeners = new Set<DurableSubscription>()

  function current(): Connected {
    if (!live || !connected) {
      throw new BridgeUnavailableError(`${NATS_BRIDGE_NAME} is not connected to ${describeServers(options)}`)
    }
    return live
  }

  async function openJetStream(
    nc: NatsConnection,
    host: TransportHost,
  ): Promise<DurableEnvironment | undefined> {
    let jsm: JetStreamManager
    try {
      jsm = await jetstreamManager(nc)
    } catch (error) {
      host.logger.warn({ err: error }, 'JetStream is not available: durable subscriptions are disabled')
      return undefined
    }
    const js: JetStreamClient = jsm.jetstream()
    const topology = new JetStreamTopology(jsm, subjects, durableOptions)
    const interest = new DurableInterest(nc, jsm, subjects, host.logger)
    await interest.start((consumer) => {
      // Deleted under a running subscription (by an operator, or with the stream): declare it
      // again, but not at once. The advisory comes while the server still removes the old files;
      // a stream re-created with the same name meanwhile lost its consumer's state (nats-server 2.9).
      const timer = setTimeout(() => {
        for (const listener of durableListeners) {
          if (consumer === undefined || listener.consumerName === consumer) void listener.recreate()
        }
      }, RECREATE_AFTER_DELETE_MS)
      timer.unref()
    })
    const deadLetters = new DeadLetters(js, jsm, topology, subjects, durableOptions.publishTimeoutMs)
    return {
      nc,
      js,
      topology,
      interest,
      deadLetters,
      subjects,
      options: durableOptions,
      logger: host.logger,
      host,
    }
  }

  async function watchConnection(state: Connected): Promise<void> {
    // Each disconnect and reconnect starts a new generation; a re-declaration that finishes
    // after the connection dropped again must not report the bridge ready.
    let generation = 0
    for await (const status of state.nc.status()) {
      if (status.type === 'disconnect') {
        generation++
        connected = false
        state.host.logger.warn({ server: status.server }, 'disconnected from NATS; reconnecting')
        // A reply published while the connection is down is gone: fail the waiting calls now
        // (retryable, outcome unknown) rather than at their deadlines.
        state.host.repliesLost('connection to NATS lost')
      } else if (status.type === 'reconnect') {
        const current = ++generation
        // Ready once the re-declarations settled (bounded), even if one failed: it is reported,
        // and a bridge that stayed "not ready" on a live connection would refuse every call.
        redeclare(state)
          .catch((error) => state.host.reportFailure('re-declare after a reconnect', error))
          .then(() => {
            if (current !== generation || live !== state || state.nc.isClosed()) return
            connected = true
            state.host.logger.info({ server: status.server }, 'reconnected to NATS')
          })
      }
    }
  }

  /**
   * After a reconnect: nats.js re-sent the core subscriptions (reply inbox, command queues);
   * a flush makes sure the server has them before the bridge reports ready, so the first call
   * is answered. The JetStream state may be gone with the server: waits (bounded) for streams
   * and consumers to be declared again; past the bound, commands and at-most-once events need
   * not wait for JetStream.
   */
  async function redeclare(state: Connected): Promise<void> {
    state.durable?.topology.reset()
    const redeclared = Promise.allSettled([
      ...[...durableListeners].map((listener) => listener.recreate()),
      state.durable?.interest.refresh(),
    ])
    let timer: NodeJS.Timeout | undefined
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, REDECLARE_WAIT_MS)
    })
    await Promise.race([redeclared, bound])
    clearTimeout(timer)
    // The flush is bounded too: a flush whose PONG never comes (the connection dropped again in
    // between) must not keep a bridge on a live connection "not ready" for good.
    let flushTimer: NodeJS.Timeout | undefined
    const flushBound = new Promise<void>((resolve) => {
      flushTimer = setTimeout(resolve, REDECLARE_WAIT_MS)
    })
    await Promise.race([state.nc.flush().catch(() => undefined), flushBound])
    clearTimeout(flushTimer)
  }

  async function publishDurable(state: Connected, subject: string, event: OutboundMessage): Promise<void> {
    try {
      await state.jetStreamPublisher!.publish(subject, event.bytes, event.envelope.id)
    } catch (error) {
      // perhaps the stream or its consumers went away
      state.durable?.interest
        .refresh()
        .catch((refreshError) => state.host.reportFailure('refresh durable interest', refreshError))
      throw error
    }
  }

  const firstServer = [options.servers ?? DEFAULT_NATS_SERVERS].flat()[0]
  return {
    name: NATS_BRIDGE_NAME,
    subjects,
    server: firstServer === undefined ? undefined : serverAddressOf(firstServer, 4222),
    destinationName: (target) =>
      target.kind === 'command' ? subjects.command(target.address) : subjects.event(target.eventName),
    get capabilities() {
      return capabilities
    },
    get connection() {
      return live?.nc
    },

    async connect(host) {
      let nc: NatsConnection
      try {
        nc = await connect(connectionOptions(options))
      } catch (error) {
        throw new BridgeUnavailableError(
          `${NATS_BRIDGE_NAME} cannot connect to ${describeServers(options)}: ${(error as Error).message}`,
          { cause: error },
        )
      }
      const commands = new CommandChannel(nc, subjects, host)
      await commands.start()
      const durable = await openJetStream(nc, host)
      let jetStreamPublisher: JetStreamPublisher | undefined
      if (durable) {
        const inbox = subjects.ackInbox(host.instanceId)
        const timeoutMs = durableOptions.publishTimeoutMs
        jetStreamPublisher = new JetStreamPublisher(nc, inbox, timeoutMs, host, host.logger)
        await jetStreamPublisher.start()
      }
      capabilities = natsCapabilities(nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD, durable !== undefined)
      live = { nc, host, commands, durable, jetStreamPublisher }
      connected = true
      watchConnection(live).catch((error) => host.reportFailure('watch the NATS connection', error))
    },

    async disconnect() {
      const state = live
      if (!state) return
      connected = false
      live = undefined
      state.commands.stop()
      state.jetStreamPublisher?.stop()
      state.durable?.interest.stop()
      durableListeners.clear()
      // drain() flushes what is still buffered (last acks and replies) before closing.
      await state.nc.drain().catch(() => state.nc.close())
    },

    isReady: () => connected,
    isHealthy: () => live !== undefined && !live.nc.isClosed(),

    sendCommand(address, command) {
      try {
        return current().commands.send(address, command)
      } catch (error) {
        return Promise.reject(error)
      }
    },

    async listenCommands(address, receive) {
      return current().commands.listen(address, receive)
    },

    async publishEvent(event) {
      const state = current()
      const subject = subjects.event(event.envelope.eventName!)
      if (state.durable?.interest.covers(subject)) await publishDurable(state, subject, event)
      else state.nc.publish(subject, event.bytes)
    },

    async listenEvents(spec, receive): Promise<TransportListener> {
      const state = current()
      if (spec.delivery !== 'durable') {
        return listenAtMostOnce(state.nc, subjects, state.host, state.durable?.deadLetters, spec, receive)
      }
      if (!state.durable) {
        throw new ConduitError(
          500,
          'JETSTREAM_UNAVAILABLE',
          `${spec.group} is durable but JetStream is disabled`,
          false,
        )
      }
      const listener = new DurableSubscription(state.durable, spec, receive)
      await listener.start()
      durableListeners.add(listener)
      return {
        pause: () => {
          durableListeners.delete(listener) // nothing to re-create after a reconnect
          return listener.pause()
        },
        close: () => listener.close(),
      }
    },

    async readDeadLetters(group) {
      const { durable } = current()
      return durable ? durable.deadLetters.read(group) : []
    },
  }
}

function describeServers(options: NatsBridgeOptions): string {
  const servers = options.servers ?? DEFAULT_NATS_SERVERS
  return Array.isArray(servers) ? servers.join(', ') : servers
}
