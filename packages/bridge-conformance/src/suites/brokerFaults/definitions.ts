import { createService, defineEvent, defineService, handleCommand, handleSubscription } from '@conduit/core'
import { z } from 'zod'

// Contracts of the broker-fault group: a numbered durable event stream and a trivial command.

export const tick = defineEvent('conformance.faults.tick', z.object({ seq: z.number().int() }))

export const faultsV1 = defineService({ name: 'cffaults', version: '1' })
export const onTick = faultsV1.subscription('onTick', { event: tick, delivery: 'durable' })
export const ping = faultsV1.command('ping', {
  input: z.object({ n: z.number() }),
  output: z.object({ n: z.number() }),
})

/** A second consumer group, offline while the broker dies: its events wait on the broker only. */
export const archiveV1 = defineService({ name: 'cffaultsarchive', version: '1' })
export const archiveOnTick = archiveV1.subscription('onTick', { event: tick, delivery: 'durable' })

export function archiveService(handled: (seq: number) => void) {
  return createService(archiveV1, {
    subscriptions: [handleSubscription(archiveOnTick, ({ seq }) => handled(seq))],
  })
}

export interface TickHandling {
  /** runs before the handler returns (the event is acknowledged only after it) */
  handled(seq: number): void
  /** optional hold before handling: a slow consumer */
  before?: (seq: number) => Promise<void>
}

/** Answers ping; handles each tick durably and reports it once handled. */
export function faultsService(handling: TickHandling) {
  return createService(faultsV1, {
    commands: [handleCommand(ping, ({ n }) => ({ n }))],
    subscriptions: [
      handleSubscription(onTick, async ({ seq }) => {
        await handling.before?.(seq)
        handling.handled(seq)
      }),
    ],
  })
}
