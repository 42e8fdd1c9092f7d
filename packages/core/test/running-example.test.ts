import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import {
  createService,
  DefaultEventBridge,
  defineEvent,
  defineService,
  handleCommand,
  handleSubscription,
} from '../src/index.js'

const userRegistered = defineEvent('user.registered', z.object({ userId: z.string(), email: z.email() }))
const userV1 = defineService({ name: 'user', version: '1' })
const registerNewUser = userV1.command('registerNewUser', {
  input: z.object({ name: z.string().min(1), email: z.email() }),
  output: z.object({ userId: z.string() }),
  emits: [userRegistered],
})
const emailV1 = defineService({ name: 'email', version: '1' })
const sendWelcomeMail = emailV1.subscription('sendWelcomeMail', { event: userRegistered })

describe('the DESIGN.md running example on DefaultEventBridge', () => {
  it('registers a user and sends exactly one welcome mail', async () => {
    const mails: string[] = []
    const userV1Service = createService(userV1, {
      commands: [
        handleCommand(registerNewUser, async (input, ctx) => {
          const userId = `u-${input.name}`
          await ctx.emit('user.registered', { userId, email: input.email })
          // @ts-expect-error: 'user.deleted' is not declared in emits
          await expect(ctx.emit('user.deleted', { userId })).rejects.toThrow(/does not declare/)
          return { userId }
        }),
      ],
    })
    const emailV1Service = createService(emailV1, {
      subscriptions: [handleSubscription(sendWelcomeMail, async (event) => void mails.push(event.email))],
    })
    const eventBridge = new DefaultEventBridge()
    await eventBridge.start()
    const userService = await userV1Service.getInstance(eventBridge)
    await userService.start()
    const emailService = await emailV1Service.getInstance(eventBridge)
    await emailService.start()

    const result = await eventBridge.invoke(registerNewUser, { name: 'ada', email: 'ada@example.org' })
    expect(result.userId).toBe('u-ada')
    await expect.poll(() => mails).toEqual(['ada@example.org'])
    await eventBridge.stop()
  })
})
