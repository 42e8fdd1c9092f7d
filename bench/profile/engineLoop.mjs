// The engine's hot loop on the memory bridge, on the built core (packages/core/dist): warms up with
// 20,000 messages, then runs N more. bench/profile/count-instructions.sh runs it under callgrind.
// usage: node bench/profile/engineLoop.mjs N [calls|events]   (PRINT_TIME=1: wall time per message;
// IN_FLIGHT=1: one message at a time instead of 100)

import { z } from 'zod'

// CORE_DIST picks another build of core (ab-time.sh builds the one before a change into dist-before)
const { createService, defineEvent, defineService, handleCommand, handleSubscription, MemoryBridge } =
  await import(`../../packages/core/${process.env.CORE_DIST ?? 'dist'}/index.js`)

const input = z.object({
  accountId: z.string().min(1),
  amount: z.number().int().positive(),
  note: z.string().optional(),
})
const output = z.object({ accountId: z.string(), balance: z.number() })
const made = defineEvent('account.deposited', z.object({ accountId: z.string().min(1), amount: z.number() }))
const account = defineService({ name: 'account', version: '1' })
const deposit = account.command('deposit', { input, output })
const ledger = defineService({ name: 'ledger', version: '1' })
const record = ledger.subscription('recordDeposit', { event: made, delivery: 'at-most-once' })
process.env.CONDUIT_LOG_LEVEL = 'silent'
const bridge = new MemoryBridge()
await bridge.start()
let handled = 0
const instances = [
  await createService(account, {
    commands: [handleCommand(deposit, async (i) => ({ accountId: i.accountId, balance: i.amount + 1 }))],
  }).getInstance(bridge),
  await createService(ledger, {
    subscriptions: [handleSubscription(record, async () => void handled++)],
  }).getInstance(bridge),
]
for (const instance of instances) await instance.start()
const mode = process.argv[3] ?? 'calls'
const total = Number(process.argv[2])
// warm-up so JIT tiers settle before the measured part
const run = async (n) => {
  const inFlight = Number(process.env.IN_FLIGHT ?? 100)
  for (let done = 0; done < n; done += inFlight) {
    const batch = []
    for (let i = 0; i < inFlight; i++)
      batch.push(
        mode === 'calls'
          ? bridge.invoke(deposit, { accountId: 'acc-42', amount: 100, note: 'benchmark' })
          : bridge.emit(made, { accountId: 'acc-42', amount: 100 }),
      )
    await Promise.all(batch)
  }
}
await run(20000)
const started = process.hrtime.bigint()
await run(total)
const elapsed = Number(process.hrtime.bigint() - started)
if (process.env.PRINT_TIME) console.log(`${mode}: ${Math.round(elapsed / total)} ns per message`)
for (const instance of instances) await instance.stop()
await bridge.stop()
