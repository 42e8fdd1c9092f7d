import { defineEvent, defineService, z } from './workspace.js'

// The workload every broker suite measures, on both sides: the same zod schemas and the same
// business logic, so the ratio is the runtime's cost and nothing else.

export const depositInput = z.object({ accountId: z.string().min(1), amount: z.number().int().positive() })
export const depositOutput = z.object({ accountId: z.string(), balance: z.number() })
export const depositMade = defineEvent(
  'bench.account.deposited',
  z.object({ accountId: z.string(), amount: z.number() }),
)

/** The business logic both sides run. */
export const deposit = async (input: z.output<typeof depositInput>) => ({
  accountId: input.accountId,
  balance: input.amount + 1,
})

export const SAMPLE = { accountId: 'acc-42', amount: 100 }

export const accountV1 = defineService({ name: 'benchAccount', version: '1' })
export const depositCommand = accountV1.command('deposit', { input: depositInput, output: depositOutput })

/** The raw baselines' server side: validate, run, validate. */
export async function rawDeposit(input: unknown) {
  return depositOutput.parse(await deposit(depositInput.parse(input)))
}

/** The same work for the peer framework (bench/lib/moleculer.ts): its action and its event handler. */
export const peerWork = {
  add: rawDeposit,
  eventName: depositMade.name,
  checkEvent: (payload: unknown) => void depositMade.schema.parse(payload),
}
