/**
 * Profiling driver for a broker bridge: a client bridge invokes a service on a second bridge
 * (calls), or emits events one at-most-once subscription on the second bridge consumes (events),
 * 100 in flight, for PROFILE_MS (default 4 s), against the shared local broker.
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --conditions=conduit-dist --import tsx \
 *     bench/profile/brokerLoop.ts nats|mqtt|amqp [calls|events]
 */

import { AmqpBridge } from '@conduit/amqp'
import type { EventBridge } from '@conduit/core'
import { MqttBridge } from '@conduit/mqtt'
import { NatsBridge } from '@conduit/nats'
import { accountV1, deposit, depositCommand, depositMade, SAMPLE } from '../lib/deposit.js'
import { createService, defineService, handleCommand, handleSubscription } from '../lib/workspace.js'

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
const mode = process.argv[3] ?? 'calls'
if (mode !== 'calls' && mode !== 'events') throw new Error('the second argument is calls or events')
let consumed = 0
const ledgerV1 = defineService({ name: 'benchLedger', version: '1' })
const record = ledgerV1.subscription('record', { event: depositMade, delivery: 'at-most-once' })
const instances = [
  await createService(accountV1, {
    commands: [handleCommand(depositCommand, (input) => deposit(input))],
  }).getInstance(server),
  await createService(ledgerV1, {
    subscriptions: [handleSubscription(record, async () => void consumed++)],
  }).getInstance(server),
]
for (const instance of instances) await instance.start()
const cpuStart = process.cpuUsage()
const until = performance.now() + Number(process.env.PROFILE_MS ?? 4000)
let done = 0
await Promise.all(
  Array.from({ length: 100 }, async () => {
    while (performance.now() < until) {
      if (mode === 'calls') await client.invoke(depositCommand, SAMPLE)
      else {
        await client.emit(depositMade, SAMPLE)
        // a publish that resolves without a round trip never yields to socket reads: let the consumer catch up
        while (done - consumed > 2000) await new Promise((resolve) => setImmediate(resolve))
      }
      done++
    }
  }),
)
const cpu = process.cpuUsage(cpuStart)
const what = mode === 'calls' ? 'calls' : `emits (${consumed} consumed)`
console.log(
  `${done} ${what}; ${((cpu.user + cpu.system) / done).toFixed(1)} µs CPU per message (both bridges)`,
)
for (const instance of instances) await instance.stop()
await client.stop()
await server.stop()
