import { EventBridge, type EventBridgeOptions } from '../bridge/EventBridge.js'
import type { Envelope } from '../envelope/envelope.js'
import { type BridgeCapabilities, supported } from '../transport/capabilities.js'
import type { CommandReceiver, Transport, TransportHost } from '../transport/port.js'
import { SENT } from '../transport/sent.js'
import { MemoryBroker } from './MemoryBroker.js'

export const MEMORY_BRIDGE_NAME = 'memory'

export const memoryCapabilities: BridgeCapabilities = Object.freeze({
  requestReply: supported,
  durable: supported,
  everyInstance: supported,
  wildcards: supported,
  noHandlerDetection: supported,
  deadLetterInspection: supported,
  maxPayloadBytes: Number.POSITIVE_INFINITY,
})

export interface MemoryBridgeOptions extends EventBridgeOptions {
  /** share one broker between bridges to model several processes; default: a private broker */
  broker?: MemoryBroker
}

/** The in-process transport: envelopes move as objects, never encoded. */
export function createMemoryTransport(broker: MemoryBroker): Transport {
  let host: TransportHost | undefined
  let connected = false
  const ownReceivers = new Set<CommandReceiver>()
  return {
    name: MEMORY_BRIDGE_NAME,
    capabilities: memoryCapabilities,
    carries: 'envelopes',
    async connect(transportHost) {
      host = transportHost
      broker.addReplyRoute(transportHost.instanceId, (raw) => transportHost.receiveReply(raw))
      connected = true
    },
    async disconnect() {
      if (host) broker.removeReplyRoute(host.instanceId)
      connected = false
    },
    isReady: () => connected,
    isHealthy: () => connected,
    sendCommand(address, command) {
      try {
        broker.sendCommand(address, command.envelope as Envelope, host!.instanceId)
        return SENT
      } catch (error) {
        return Promise.reject(error)
      }
    },
    async listenCommands(address, receive) {
      const remove = broker.addCommandReceiver(address, receive)
      ownReceivers.add(receive)
      const pause = async () => {
        remove()
        ownReceivers.delete(receive)
      }
      return { pause, close: async () => undefined }
    },
    soleOwnReceiver(address) {
      const receiver = connected ? broker.soleCommandReceiver(address) : undefined
      return receiver !== undefined && ownReceivers.has(receiver) ? receiver : undefined
    },
    publishEvent(event) {
      try {
        broker.publishEvent(event.envelope.eventName!, event.envelope as Envelope)
        return SENT
      } catch (error) {
        return Promise.reject(error)
      }
    },
    async listenEvents(spec, receive) {
      const remove = broker.addEventReceiver(spec, receive)
      // close() comes after the drain: what is still unsettled then goes to another instance.
      return { pause: async () => remove(), close: async () => broker.releaseUnsettled(receive) }
    },
    async readDeadLetters(group) {
      return broker.readDeadLetters(group)
    },
  }
}

/** Everything in one process: the monolith bridge, and the default. */
export class MemoryBridge extends EventBridge<Transport> {
  readonly broker: MemoryBroker

  constructor(options: MemoryBridgeOptions = {}) {
    const broker = options.broker ?? new MemoryBroker()
    super(createMemoryTransport(broker), options)
    this.broker = broker
  }
}

/** The bridge DESIGN.md's example starts with; swap it for NatsBridge, AmqpBridge, ... */
export { MemoryBridge as DefaultEventBridge }
