/**
 * Profiling driver for a broker bridge's command path: a client bridge invokes a service on a
 * second bridge, 100 in flight, for PROFILE_MS (default 4 s), against the shared local broker.
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/profile/brokerLoop.ts nats|mqtt|amqp
 */
import type { EventBridge } from '@conduit/core'
import { AmqpBridge } from '../../packages/amqp/src/index.js'
import { MqttBridge } from '../../packages/mqtt/src/index.js'
import { NatsBridge } from '../../packages/nats/src/index.js'
import { accountV1, deposit, depositCommand, SAMPLE } from '../lib/deposit.js'
import { createService, handleCommand } from '../lib/workspace.js'

process.env.CONDUIT_LOG_LEVEL ??= 'warn'
const prefix = `profile${Date.now().toString(36)}`
const bridges: Record<string, () => EventBridge> = {
  nats: () => new NatsBridge({ servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222', prefix }),
  mqtt: () => new MqttBridge({ url: process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883', prefix }),
  amqp: () => new AmqpBridge({ url: process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672', prefix }),
}
const make = bridges[process.argv[2] ?? 'nats']
if (!make) throw new Error(`usage: brokerLoop.ts ${Object.keys(bridges).join('|')}`)
const server = make()
const client = make()
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
