import { createService, defineEvent, defineService, handleCommand, handleSubscription } from '@conduit/core'
import { metrics } from '@opentelemetry/api'
import { z } from 'zod'

// A service that does, in each handler, what the operability tests look at: it logs through
// ctx.logger, counts through the global meter provider and emits one event.

export const greeted = defineEvent('greeter.greeted', z.object({ name: z.string() }))
export const visitorArrived = defineEvent('visitor.arrived', z.object({ name: z.string() }))

export const greeterV1 = defineService({ name: 'greeter', version: '1' })
export const greet = greeterV1.command('greet', {
  input: z.object({ name: z.string() }),
  output: z.object({ greeting: z.string() }),
  emits: [greeted],
  http: { method: 'POST', path: '/greet', public: true },
})
export const welcomeVisitor = greeterV1.subscription('welcomeVisitor', {
  event: visitorArrived,
  emits: [greeted],
})

/** The counter every handler adds to (made per call: the test registers its meter provider first). */
export const GREETINGS_METRIC = 'greeter.greetings'
const countGreeting = () => metrics.getMeter('greeter-test').createCounter(GREETINGS_METRIC).add(1)

export const greeterService = createService(greeterV1, {
  commands: [
    handleCommand(greet, async ({ name }, ctx) => {
      ctx.logger.info({ visitor: 'http' }, 'greeting a caller')
      countGreeting()
      await ctx.emit('greeter.greeted', { name })
      return { greeting: `hello ${name}` }
    }),
  ],
  subscriptions: [
    handleSubscription(welcomeVisitor, async ({ name }, ctx) => {
      ctx.logger.info({ visitor: 'queue' }, 'greeting a visitor')
      countGreeting()
      await ctx.emit('greeter.greeted', { name })
    }),
  ],
})
