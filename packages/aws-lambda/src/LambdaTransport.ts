import {
  BridgeUnavailableError,
  commandAddressKey,
  compileEventPattern,
  type Envelope,
  UnhandledError,
} from '@conduit/core'
import {
  type BridgeCapabilities,
  type CommandReceiver,
  type DeliveryOutcome,
  type EventListenerSpec,
  type EventReceiver,
  type OutboundMessage,
  supported,
  type Transport,
  type TransportHost,
  unsupported,
} from '@conduit/core/transport'

export const LAMBDA_BRIDGE_NAME = 'aws-lambda'

/** What one subscription of the function made of one inbound event. */
export interface SubscriptionOutcome {
  /** the subscription's consumer group, e.g. `email.v1.sendWelcomeMail` */
  readonly subscription: string
  readonly outcome: DeliveryOutcome
}

/** The transport of a LambdaBridge: the Transport port plus the entry Lambda events come in by. */
export interface LambdaTransport extends Transport {
  /** the transport outgoing invokes and emits go through */
  readonly outgoing: Transport
  /**
   * Hands one inbound event to the engine's receiver of every consumer group whose pattern
   * matches it and resolves with each one's outcome (ack, retry or dead-letter).
   */
  deliverEvent(event: Envelope, attempt: number): Promise<SubscriptionOutcome[]>
}

interface GroupListener {
  readonly spec: EventListenerSpec
  readonly matches: (eventName: string) => boolean
  readonly receive: EventReceiver
}

/**
 * Inbound messages come from Lambda events and go straight to the engine's receivers (one per
 * command address and per consumer group; the engine routes among local registrations).
 * Outbound messages, commands of other services and every emit, go through the wrapped
 * `outgoing` transport, connected with the engine's own host: its replies, late failures and
 * lost connections reach the one engine that waits for them.
 */
export function createLambdaTransport(outgoing: Transport): LambdaTransport {
  let host: TransportHost | undefined
  let connected = false
  const commandReceivers = new Map<string, CommandReceiver>()
  const groups = new Map<string, GroupListener>()
  let outgoingCapabilities = outgoing.capabilities
  let capabilities = lambdaCapabilities(outgoingCapabilities)

  /** A command this function serves: answered in process, its reply handed to the engine. */
  function sendLocally(receive: CommandReceiver, command: OutboundMessage, engine: TransportHost) {
    const { id, correlationId } = command.envelope
    receive(command.envelope, (response) => {
      engine.receiveReply(response.envelope)
    })
      .then((outcome) => {
        // Only an internal failure dead-letters a command the engine built: fail the call now.
        if (outcome.action === 'dead-letter') engine.failCall(id, new UnhandledError(correlationId))
      })
      .catch((error: unknown) => engine.reportFailure('handle a local command', error, { correlationId }))
  }

  return {
    name: LAMBDA_BRIDGE_NAME,
    carries: outgoing.carries ?? 'bytes',
    get capabilities() {
      // The outgoing transport may learn its limits on connect (e.g. the server's max payload).
      if (outgoing.capabilities !== outgoingCapabilities) {
        outgoingCapabilities = outgoing.capabilities
        capabilities = lambdaCapabilities(outgoingCapabilities)
      }
      return capabilities
    },
    outgoing,
    async connect(transportHost) {
      await outgoing.connect(transportHost)
      host = transportHost
      connected = true
    },
    async disconnect() {
      connected = false
      await outgoing.disconnect()
    },
    isReady: () => connected && outgoing.isReady(),
    isHealthy: () => connected && outgoing.isHealthy(),

    async sendCommand(address, command) {
      const local = commandReceivers.get(commandAddressKey(address))
      if (local === undefined) return outgoing.sendCommand(address, command)
      if (!host) throw new BridgeUnavailableError(`${LAMBDA_BRIDGE_NAME} bridge is not running`)
      sendLocally(local, command, host)
    },

    async listenCommands(address, receive) {
      const key = commandAddressKey(address)
      // The engine opens one per address; a newer one (opened while the last drains) takes over.
      commandReceivers.set(key, receive)
      return {
        // Paused: the function's own commands then go out like any other (and find no handler).
        pause: async () => void (commandReceivers.get(key) === receive && commandReceivers.delete(key)),
        close: async () => undefined,
      }
    },

    publishEvent: (event) => outgoing.publishEvent(event),

    async listenEvents(spec, receive) {
      const listener: GroupListener = { spec, matches: compileEventPattern(spec.eventPattern), receive }
      groups.set(spec.group, listener)
      return {
        pause: async () => void (groups.get(spec.group) === listener && groups.delete(spec.group)),
        close: async () => undefined,
      }
    },

    async deliverEvent(event, attempt) {
      if (!connected) throw new BridgeUnavailableError(`${LAMBDA_BRIDGE_NAME} bridge is not running`)
      const targets = [...groups.values()].filter((group) => group.matches(event.eventName!))
      return Promise.all(
        targets.map(async (group) => ({
          subscription: group.spec.group,
          outcome: await group.receive(event, { attempt }),
        })),
      )
    },
  }
}

/**
 * Commands are served in the function (HTTP events) or sent through the outgoing transport,
 * which also bounds the payload size and tells whether nothing listens. A Lambda event reaches
 * one container, so `everyInstance` cannot be honoured; dead letters live in AWS (the queue's
 * redrive DLQ or the function's on-failure destination), not in the bridge.
 */
function lambdaCapabilities(outgoing: BridgeCapabilities): BridgeCapabilities {
  return Object.freeze({
    requestReply: supported,
    durable: supported,
    everyInstance: unsupported(
      'each Lambda event reaches one function container; fan out with one queue or rule per subscriber instead',
    ),
    wildcards: supported,
    noHandlerDetection: outgoing.noHandlerDetection,
    deadLetterInspection: unsupported(
      "dead letters are in the SQS queue's redrive DLQ or the function's on-failure destination",
    ),
    maxPayloadBytes: outgoing.maxPayloadBytes,
  })
}
