// A separate process running a durable member whose handler never finishes: the crash test
// kills it with SIGKILL while it holds an unacknowledged event.
import { createService, handleSubscription } from '@conduit/core'
import { MqttBridge } from '../../src/index.js'
import { ledgerBook, ledgerV1 } from '../fixtures.js'

const [url, prefix] = process.argv.slice(2) as [string, string]
const bridge = new MqttBridge({ url, prefix, clientIdBase: 'conduit-test-worker', orphanDelay: 1 })
await bridge.start()
const service = createService(ledgerV1, {
  subscriptions: [
    handleSubscription(ledgerBook, async ({ orderId }) => {
      process.stdout.write(`handling ${orderId}\n`)
      await new Promise(() => {}) // stuck until the process is killed
    }),
  ],
})
await (await service.getInstance(bridge)).start()
process.stdout.write('ready\n')
