import { createService, defineService, handleCommand, handleSubscription } from '@conduit/core'
import { createEventHandler, createHttpHandler } from '../src/index.js'
import { deposit, depositInput, depositOutput } from './deposit.js'

// The same business logic as a Conduit function: this module is what Lambda loads at init.

const accountV1 = defineService({ name: 'account', version: '1' })
const depositCommand = accountV1.command('deposit', {
  input: depositInput,
  output: depositOutput,
  http: { method: 'POST', path: '/deposits', public: true },
})
const depositMade = accountV1.subscription('recordDeposit', {
  event: 'account.deposited',
  input: depositInput,
})

export const conduitHttpHandler = createHttpHandler(
  createService(accountV1, {
    commands: [handleCommand(depositCommand, (input) => deposit(input))],
    subscriptions: [handleSubscription(depositMade, async (input) => void (await deposit(input)))],
  }),
  // The docs page reads swagger-ui-dist from node_modules at creation, which a bundle lacks.
  { closeOnSigterm: false, docs: false },
)

export const conduitEventHandler = createEventHandler(conduitHttpHandler.runtime)
