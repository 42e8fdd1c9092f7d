// A consumer process for the broker-fault group: builds the bridge the harness names (module
// file, export, JSON options), runs the durable tick consumer, and prints `handled <seq>` for
// every tick it handled, just before the handler returns. The parent kills it with SIGKILL.
import type { EventBridge, EventBridgeOptions } from '@conduit/core'
import { faultsService } from './definitions.js'

// Dies with its parent: the parent holds our stdin open; a crashed test worker closes it.
process.stdin.on('end', () => process.exit(0))
process.stdin.resume()

const [modulePath, exportName, optionsJson, handleMs] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
]
const module = (await import(modulePath)) as Record<string, new (options: EventBridgeOptions) => EventBridge>
const Bridge = module[exportName]
if (!Bridge) throw new Error(`${modulePath} exports no ${exportName}`)
const bridge = new Bridge({
  ...(JSON.parse(optionsJson) as object),
  retryBackoff: { initialMs: 50, maxMs: 200 },
})
await bridge.start()
const delay = Number(handleMs)
const service = faultsService({
  // a little work per event, so that some are always in flight when the process dies
  before: () => new Promise((resolve) => setTimeout(resolve, delay)),
  handled: (seq) => process.stdout.write(`handled ${seq}\n`),
})
await (await service.getInstance(bridge)).start()
process.stdout.write('ready\n')
