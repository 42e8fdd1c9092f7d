// One writer of the conformance race: opens the store from the factory module on the given
// namespace, says `ready`, waits for `go` on stdin (so both writers start together), runs its
// increments through `update`, and prints one JSON line with what happened.
import { incrementMany } from './race.js'
import { loadFactory } from './subject.js'

const [factoryModule, namespace, key, count] = process.argv.slice(2) as [string, string, string, string]
const store = await (await loadFactory(factoryModule))(namespace)
await store.get(key) // connected before the start signal
process.stdout.write('ready\n')
await new Promise<void>((resolve) => {
  process.stdin.on('data', (chunk: Buffer) => {
    if (chunk.toString().includes('go')) resolve()
  })
})
// Dies with its parent: a crashed test worker closes our stdin.
process.stdin.on('end', () => process.exit(1))

const result = await incrementMany(store, key, Number(count))
await store.close()
process.stdout.write(`${JSON.stringify(result)}\n`)
process.exit(0)
