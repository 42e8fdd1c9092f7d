import { MemoryBridge, MemoryBroker } from '@conduit/core'
import { runBridgeConformance } from '../src/index.js'

// The in-memory bridge: each namespace is a fresh broker; bridges sharing it model processes.
runBridgeConformance({
  name: 'memory',
  async createNamespace() {
    const broker = new MemoryBroker()
    return {
      createBridge: (options) => new MemoryBridge({ ...options, broker }),
      injectRawCommand: async (address, bytes, replyTo) => broker.injectRawCommand(address, bytes, replyTo),
      replyAddresses: {
        notApplicable:
          'in-process: a reply goes back to the calling bridge object, never to an address read from a message',
      },
      interruptConnection: { notApplicable: 'in-process: there is no connection to lose' },
      injectRawEvent: async (eventName, bytes) => broker.injectRawEvent(eventName, bytes),
      cleanup: async () => broker.close(),
    }
  },
})
