import { randomUUID } from 'node:crypto'
import { MemoryBridge, MemoryBroker } from '@conduit/core'
import { runBridgeConformance } from '../src/index.js'

// The in-memory bridge: each namespace is a fresh broker; bridges sharing it model processes.
runBridgeConformance({
  name: 'memory',
  brokerFaults: {
    notApplicable:
      'in-process: the broker is an object in the test process, there is no broker process to kill or restart',
  },
  async createNamespace() {
    const broker = new MemoryBroker()
    return {
      createBridge: (options) => new MemoryBridge({ ...options, broker }),
      injectRawCommand: async (address, bytes, replyTo) => broker.injectRawCommand(address, bytes, replyTo),
      // In process the reply travels as an envelope object: its JSON is what a wire would carry.
      captureReply: (address, bytes, timeoutMs) =>
        new Promise<Uint8Array>((resolve, reject) => {
          const replyTo = `raw-capture-${randomUUID()}`
          const timer = setTimeout(() => reject(new Error(`no reply within ${timeoutMs} ms`)), timeoutMs)
          broker.addReplyRoute(replyTo, (reply) => {
            clearTimeout(timer)
            broker.removeReplyRoute(replyTo)
            resolve(new TextEncoder().encode(JSON.stringify(reply)))
          })
          broker.injectRawCommand(address, bytes, replyTo)
        }),
      replyAddresses: {
        notApplicable:
          'in-process: a reply goes back to the calling bridge object, never to an address read from a message',
      },
      interruptConnection: { notApplicable: 'in-process: there is no connection to lose' },
      injectRawEvent: async (eventName, bytes) => broker.injectRawEvent(eventName, bytes),
      // In process a dead letter is the envelope object (or the bytes that were no envelope).
      readRawDeadLetters: async (group) =>
        broker
          .readDeadLetters(group)
          .map((raw) => (raw instanceof Uint8Array ? raw : new TextEncoder().encode(JSON.stringify(raw)))),
      stallBroker: {
        notApplicable:
          'in-process: emit hands the event to the broker object synchronously; there is no broker connection that confirms',
      },
      createBridgeWithPayloadLimit: {
        notApplicable:
          'in-process: envelopes move as objects, never encoded, so there is no byte limit to configure',
      },
      cleanup: async () => broker.close(),
    }
  },
})
