import {
  type BridgeCapabilities,
  BridgeUnavailableError,
  type CommandReceiver,
  commandAddressKey,
  compileEventPattern,
  type DeliveryOutcome,
  type Envelope,
  type EventBridge,
  type EventListenerSpec,
  type EventReceiver,
  isConduitError,
  JSON_CONTENT_TYPE,
  type Sender,
  SPEC_VERSION,
  supported,
  type Transport,
  type TransportHost,
  unsupported,
} from '@conduit/core'

export const LAMBDA_BRIDGE_NAME = 'aws-lambda'

/** What one subscription of the function made of one inbound event. */
export interface SubscriptionOutcome {
  /** the subscription's consumer group, e.g. `email.v1.sendWelcomeMail` */
  readonly subscription: string
  readonly outcome: DeliveryOutcome
}

/** The transport of a LambdaBridge: the Transport port plus the entry Lambda events come in by. */
export interface LambdaTransport extends Transport {
  /** the outgoing bridge, once connected */
  readonly outgoing: EventBridge | undefined
  /** Creates (factory) and starts the outgoing bridge; retried after a failure. No-op once done. */
  connectOutgoing(): Promise<EventBridge>
  /**
   * Hands one inbound event to every subscription of the function whose pattern matches it and
   * resolves with each one's outcome (ack, retry or dead-letter), as the engine decided it.
   */
  deliverEvent(event: Envelope, attempt: number): Promise<SubscriptionOutcome[]>
}

interface EventListener {
  readonly spec: EventListenerSpec
  readonly matches: (eventName: string) => boolean
  readonly receive: EventReceiver
}

/** The bridge outbound messages go through, or a factory for it (called once, at connect). */
export type OutgoingBridge = EventBridge | (() => EventBridge | Promise<EventBridge>)

/**
 * Inbound messages come from Lambda events and go straight to the engine's receivers of this
 * function's service (so validation, filters, spans and outcomes are the engine's). Outbound
 * messages the service's handlers send, and commands of other services, go through the
 * outgoing bridge. `connect` does no I/O (so the engine's start cannot fail on a broker);
 * `connectOutgoing` starts the outgoing bridge and `disconnect` stops it.
 */
export function createLambdaTransport(given: OutgoingBridge): LambdaTransport {
  let host: TransportHost | undefined
  let outgoing: EventBridge | undefined
  let capabilities = lambdaCapabilities(typeof given === 'function' ? undefined : given.capabilities)
  let connected = false
  let connectingOutgoing: Promise<EventBridge> | undefined
  const commandReceivers = new Map<string, CommandReceiver>()
  const eventListeners = new Set<EventListener>()

  const replyLocally = async (response: Envelope): Promise<void> => host?.receiveReply(response)
  const out = (): EventBridge => {
    if (!outgoing) throw new BridgeUnavailableError(`${LAMBDA_BRIDGE_NAME} bridge is not running`)
    return outgoing
  }

  return {
    name: LAMBDA_BRIDGE_NAME,
    get capabilities() {
      return capabilities
    },
    get outgoing() {
      return outgoing
    },
    connectOutgoing() {
      connectingOutgoing ??= (async () => {
        const bridge = typeof given === 'function' ? await given() : given
        await startUnlessRunning(bridge)
        outgoing = bridge
        capabilities = lambdaCapabilities(bridge.capabilities)
        return bridge
      })().catch((error: unknown) => {
        connectingOutgoing = undefined // the next invocation tries again
        throw error
      })
      return connectingOutgoing
    },
    async connect(transportHost) {
      host = transportHost
      connected = true
    },
    async disconnect() {
      connected = false
      await outgoing?.stop()
    },
    isReady: () => connected && outgoing?.isReady() === true,
    isHealthy: () => connected && outgoing?.isHealthy() === true,

    async sendCommand(address, command) {
      const local = commandReceivers.get(commandAddressKey(address))
      if (local) {
        // Not awaited, like a broker: the engine's pending entry resolves when the reply arrives.
        local(command, replyLocally).catch((error: unknown) =>
          host?.logger.error({ err: error, correlationId: command.correlationId }, 'local command failed'),
        )
        return
      }
      // Another service's command: the outgoing bridge carries it; its answer comes back as a
      // reply, its failure rejects this send (and with it the caller's pending invocation).
      const output = await out().invokeAddress(address, command.payload, forwardedInvokeOptions(command))
      host?.receiveReply(responseTo(command, output, host.instanceId))
    },

    async listenCommands(address, receive) {
      const key = commandAddressKey(address)
      if (commandReceivers.has(key)) throw new Error(`${key} is already served by this function`)
      commandReceivers.set(key, receive)
      return { close: async () => void commandReceivers.delete(key) }
    },

    async publishEvent(event) {
      await out().emit(event.eventName!, event.payload, forwardedEmitOptions(event))
    },

    async listenEvents(spec, receive) {
      const listener: EventListener = { spec, matches: compileEventPattern(spec.eventPattern), receive }
      eventListeners.add(listener)
      return { close: async () => void eventListeners.delete(listener) }
    },

    async deliverEvent(event, attempt) {
      if (!connected) throw new BridgeUnavailableError(`${LAMBDA_BRIDGE_NAME} bridge is not running`)
      const targets = [...eventListeners].filter((listener) => listener.matches(event.eventName!))
      return Promise.all(
        targets.map(async (listener) => ({
          subscription: listener.spec.group,
          outcome: await listener.receive(event, { attempt }),
        })),
      )
    },
  }
}

/**
 * Commands and their replies work (locally, or through the outgoing bridge). A Lambda event
 * reaches one container, so `everyInstance` cannot be honoured; dead letters live in AWS
 * (the queue's redrive DLQ or the function's on-failure destination), not in the bridge.
 */
function lambdaCapabilities(outgoing: BridgeCapabilities | undefined): BridgeCapabilities {
  return Object.freeze({
    requestReply: supported,
    durable: supported,
    everyInstance: unsupported(
      'each Lambda event reaches one function container; fan out with one queue or rule per subscriber instead',
    ),
    wildcards: supported,
    noHandlerDetection: outgoing?.noHandlerDetection ?? supported,
    deadLetterInspection: unsupported(
      "dead letters are in the SQS queue's redrive DLQ or the function's on-failure destination",
    ),
    maxPayloadBytes: outgoing?.maxPayloadBytes ?? Number.POSITIVE_INFINITY,
  })
}

function senderWithoutInstance(sender: Sender): Omit<Sender, 'instanceId'> {
  const { instanceId: _instanceId, ...rest } = sender
  return rest
}

function forwardedInvokeOptions(command: Envelope) {
  const options: Parameters<EventBridge['invokeAddress']>[2] = {
    sender: senderWithoutInstance(command.sender),
    correlationId: command.correlationId,
    traceparent: command.traceparent,
    tracestate: command.tracestate,
    principalId: command.principalId,
    tenantId: command.tenantId,
  }
  if (command.deadline !== undefined) {
    options.deadline = command.deadline
    options.timeout = Math.max(0, command.deadline - Date.now())
  }
  if (command.parameter !== undefined) options.parameter = command.parameter
  if (command.headers !== undefined) options.headers = command.headers
  return options
}

function forwardedEmitOptions(event: Envelope) {
  const options: Parameters<EventBridge['emit']>[2] = {
    sender: senderWithoutInstance(event.sender),
    correlationId: event.correlationId,
    traceparent: event.traceparent,
    tracestate: event.tracestate,
    principalId: event.principalId,
    tenantId: event.tenantId,
  }
  if (event.headers !== undefined) options.headers = event.headers
  return options
}

function responseTo(command: Envelope, payload: unknown, instanceId: string): Envelope {
  return {
    id: `${command.id}:response`,
    type: 'response',
    specVersion: SPEC_VERSION,
    time: Date.now(),
    correlationId: command.correlationId,
    inReplyTo: command.id,
    sender: { instanceId },
    contentType: JSON_CONTENT_TYPE,
    payload,
  }
}

async function startUnlessRunning(bridge: EventBridge): Promise<void> {
  if (bridge.isReady()) return
  try {
    await bridge.start()
  } catch (error) {
    // Started elsewhere and momentarily disconnected: it reconnects by itself.
    if (!(isConduitError(error) && error.code === 'INVALID_STATE')) throw error
  }
}
