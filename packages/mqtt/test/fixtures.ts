import {
  createService,
  defineEvent,
  defineService,
  HandledError,
  handleCommand,
  handleSubscription,
} from '@conduit/core'
import { z } from 'zod'

// Small contracts for the package's own integration tests (the shared suite has its own).

export const orderPlaced = defineEvent('shop.order.placed', z.object({ orderId: z.number().int() }))
export const orderCancelled = defineEvent('shop.order.cancelled', z.object({ orderId: z.number().int() }))

export const shopV1 = defineService({ name: 'shop', version: '1' })
export const placeOrder = shopV1.command('placeOrder', {
  input: z.object({ orderId: z.number().int(), note: z.string().optional() }),
  output: z.object({ orderId: z.number().int(), handledBy: z.string() }),
  emits: [orderPlaced],
})
export const refuse = shopV1.command('refuse', { input: z.object({}), output: z.object({}) })
export const slow = shopV1.command('slow', { input: z.object({ ms: z.number() }), output: z.object({}) })
/** Answers with `bytes` characters: a reply as large as the caller asks. */
export const inflate = shopV1.command('inflate', {
  input: z.object({ bytes: z.number().int() }),
  output: z.object({ blob: z.string() }),
})

export function shopService(instance: string, handled: number[] = []) {
  return createService(shopV1, {
    commands: [
      handleCommand(placeOrder, async ({ orderId, note }, ctx) => {
        handled.push(orderId)
        await ctx.emit('shop.order.placed', { orderId })
        return { orderId, handledBy: `${instance}${note ? `:${note.length}` : ''}` }
      }),
      handleCommand(refuse, () => {
        throw new HandledError(409, 'Refused on purpose', { why: 'test' })
      }),
      handleCommand(inflate, ({ bytes }) => ({ blob: 'x'.repeat(bytes) })),
      handleCommand(slow, async ({ ms }, ctx) => {
        await new Promise((resolve) => {
          const timer = setTimeout(resolve, ms)
          ctx.signal.addEventListener('abort', () => {
            clearTimeout(timer)
            resolve(undefined)
          })
        })
        return {}
      }),
    ],
  })
}

export interface Seen {
  handler: string
  instance: string
  orderId: number
  attempt: number
}

const anyOrder = z.object({ orderId: z.number().int() }).loose()

export const billingV1 = defineService({ name: 'billing', version: '1' })
export const billOrder = billingV1.subscription('billOrder', { event: orderPlaced })
export const auditV1 = defineService({ name: 'audit', version: '1' })
export const auditOrder = auditV1.subscription('auditOrder', { event: orderPlaced })
export const cacheV1 = defineService({ name: 'cache', version: '1' })
export const everyCache = cacheV1.subscription('invalidate', { event: orderPlaced, everyInstance: true })
export const watchV1 = defineService({ name: 'watch', version: '1' })
export const oneLevel = watchV1.subscription('oneLevel', { event: 'shop.order.*', input: anyOrder })
export const manyLevels = watchV1.subscription('manyLevels', { event: 'shop.#', input: anyOrder })
export const ledgerV1 = defineService({ name: 'ledger', version: '1' })
/** Durable; fails events with a negative id until `failUntilAttempt`, and forever below -1000. */
export const ledgerBook = ledgerV1.subscription('book', {
  event: orderPlaced,
  delivery: 'durable',
  maxAttempts: 3,
})

export function recorderService(
  definition: typeof billingV1,
  subscription: typeof billOrder | typeof oneLevel,
  instance: string,
  seen: Seen[],
) {
  return createService(definition, {
    subscriptions: [
      handleSubscription(subscription as typeof billOrder, ({ orderId }, ctx) => {
        seen.push({ handler: subscription.name, instance, orderId, attempt: ctx.attempt })
      }),
    ],
  })
}

export function watchService(instance: string, seen: Seen[]) {
  return createService(watchV1, {
    subscriptions: [
      handleSubscription(oneLevel, ({ orderId }, ctx) => {
        seen.push({ handler: 'oneLevel', instance, orderId, attempt: ctx.attempt })
      }),
      handleSubscription(manyLevels, ({ orderId }, ctx) => {
        seen.push({ handler: 'manyLevels', instance, orderId, attempt: ctx.attempt })
      }),
    ],
  })
}

export function ledgerService(
  instance: string,
  seen: Seen[],
  handle?: (orderId: number, attempt: number) => Promise<void>,
) {
  return createService(ledgerV1, {
    subscriptions: [
      handleSubscription(ledgerBook, async ({ orderId }, ctx) => {
        seen.push({ handler: 'book', instance, orderId, attempt: ctx.attempt })
        if (handle) await handle(orderId, ctx.attempt)
        else if (orderId < 0) throw new Error(`cannot book order ${orderId}`)
      }),
    ],
  })
}
