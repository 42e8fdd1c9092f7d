import { MemoryBridge, MemoryBroker } from '@conduit/core'
import { runBridgeConformance } from '../src/index.js'

// The in-memory bridge: each namespace is a fresh broker; bridges sharing it model processes.
runBridgeConformance({
  name: 'memory',
  async createNamespace() {
    const broker = new MemoryBroker()
    return {
      createBridge: (options) => new MemoryBridge({ ...options, broker }),
      injectRawCommand: async (address, bytes) => broker.injectRawCommand(address, bytes),
      injectRawEvent: async (eventName, bytes) => broker.injectRawEvent(eventName, bytes),
      cleanup: async () => broker.close(),
    }
  },
})
