/**
 * Profiling driver for the NATS hot path: a client bridge invokes a service on a second bridge,
 * 100 in flight, for PROFILE_MS (default 4 s), against NATS_URL (default 127.0.0.1:4222).
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/profile/natsLoop.ts
 */
import { NatsBridge } from '../../packages/nats/src/index.js'
import { uniquePrefix } from '../../packages/nats/src/testing.js'
import { accountV1, deposit, depositCommand, SAMPLE } from '../lib/deposit.js'
import { createService, handleCommand } from '../lib/workspace.js'

process.env.CONDUIT_LOG_LEVEL ??= 'warn'
const servers = process.env.NATS_URL ?? 'nats://127.0.0.1:4222'
const prefix = uniquePrefix('profile')
const server = new NatsBridge({ servers, prefix })
const client = new NatsBridge({ servers, prefix })
await server.start()
await client.start()
const instance = await createService(accountV1, {
  commands: [handleCommand(depositCommand, (input) => deposit(input))],
}).getInstance(server)
await instance.start()
const cpuStart = process.cpuUsage()
const until = performance.now() + Number(process.env.PROFILE_MS ?? 4000)
let done = 0
await Promise.all(
  Array.from({ length: 100 }, async () => {
    while (performance.now() < until) {
      await client.invoke(depositCommand, SAMPLE)
      done++
    }
  }),
)
const cpu = process.cpuUsage(cpuStart)
console.log(`${done} calls; ${((cpu.user + cpu.system) / done).toFixed(1)} µs CPU per call (both bridges)`)
await instance.stop()
await client.stop()
await server.stop()
