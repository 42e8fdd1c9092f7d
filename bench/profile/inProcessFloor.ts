// How fast can an in-process call be while it keeps what Conduit promises? Four sides, in
// alternating rounds in one process, 100 calls in flight, ns of wall time per call:
//   raw       an async function: zod-parse input, handler, zod-parse output (the suite's baseline)
//   floor     the least an engine can do and keep the contract: a promise per call, a deadline
//             entry a sweep could expire, one hop so the caller never runs in the handler's
//             stack, a context object, both zod parses. No ids, no traceparent, no envelope.
//   moleculer Moleculer's local broker running the same work (bench/lib/moleculer.ts)
//   conduit   MemoryBridge.invoke (the fast lane)
// usage: node --conditions=conduit-dist --import tsx bench/profile/inProcessFloor.ts [rounds]
// (build first: pnpm build; without the condition Conduit runs from src through tsx, slower)

import { concurrently } from '../lib/measure.js'
import { startLocalMoleculer } from '../lib/moleculer.js'
import {
  createService,
  defineEvent,
  defineService,
  handleCommand,
  MemoryBridge,
  z,
} from '../lib/workspace.js'

const input = z.object({
  accountId: z.string().min(1),
  amount: z.number().int().positive(),
  note: z.string().optional(),
})
const output = z.object({ accountId: z.string(), balance: z.number() })
const deposit = async (value: z.output<typeof input>) => ({
  accountId: value.accountId,
  balance: value.amount + 1,
})
const raw = async (value: unknown) => output.parse(await deposit(input.parse(value)))

// the floor engine
interface Entry {
  resolve(value: unknown): void
  reject(error: unknown): void
  deadline: number
  index: number
}
const live: Entry[] = []
const RESOLVED = Promise.resolve()
class Context {
  constructor(readonly payload: unknown) {}
}
const handler = (value: z.output<typeof input>, context: Context) =>
  context.payload === undefined ? Promise.reject(new Error('no context')) : deposit(value)
function remove(entry: Entry): void {
  const last = live.pop()!
  if (last !== entry) {
    live[entry.index] = last
    last.index = entry.index
  }
}
function floor(payload: unknown): Promise<unknown> {
  const deadline = Date.now() + 30_000
  return new Promise((resolve, reject) => {
    const entry: Entry = { resolve, reject, deadline, index: live.length }
    live.push(entry)
    RESOLVED.then(() => {
      const parsed = input.safeParse(payload)
      if (!parsed.success) throw new Error('invalid input')
      return handler(parsed.data, new Context(payload)).then((result) => {
        const checked = output.safeParse(result)
        if (!checked.success) throw new Error('invalid output')
        return checked.data
      })
    }).then(
      (value) => {
        remove(entry)
        if (Date.now() >= entry.deadline) entry.reject(new Error('timeout'))
        else entry.resolve(value)
      },
      (error) => {
        remove(entry)
        entry.reject(error)
      },
    )
  })
}

const service = defineService({ name: 'account', version: '1' })
const depositCommand = service.command('deposit', { input, output })
const bridge = new MemoryBridge()
await bridge.start()
const instance = await createService(service, {
  commands: [handleCommand(depositCommand, (value) => deposit(value))],
}).getInstance(bridge)
await instance.start()
const moleculer = await startLocalMoleculer({
  add: raw,
  eventName: 'account.deposited',
  checkEvent: (payload) => defineEvent('account.deposited', z.object({})).schema.parse(payload),
})

const SAMPLE = { accountId: 'acc-42', amount: 100, note: 'benchmark' }
const sides: Record<string, () => Promise<unknown>> = {
  raw: () => raw(SAMPLE),
  floor: () => floor(SAMPLE),
  moleculer: () => moleculer.call(SAMPLE),
  conduit: () => bridge.invoke(depositCommand, SAMPLE),
}
const CALLS = 500_000
for (const call of Object.values(sides)) await concurrently(call, 100_000, 100)
const rounds = Number(process.argv[2] ?? 5)
const results: Record<string, number[]> = {}
for (let round = 0; round < rounds; round++) {
  for (const [name, call] of Object.entries(sides)) {
    const ms = await concurrently(call, CALLS, 100)
    const times = results[name] ?? []
    results[name] = times
    times.push((ms * 1e6) / CALLS)
  }
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
for (const [name, values] of Object.entries(results)) {
  const ns = median(values)
  const vsMoleculer = median(results.moleculer!) / ns
  console.log(
    `${name.padEnd(10)} ${Math.round(ns)} ns per call   ${vsMoleculer.toFixed(2)}x Moleculer's rate`,
  )
}
await moleculer.stop()
await instance.stop()
await bridge.stop()
