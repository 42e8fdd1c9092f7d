import { randomUUID } from 'node:crypto'
import { createService, defineEvent, defineService, HandledError, handleCommand } from '@conduit/core'
import { z } from 'zod'

// The user service of DESIGN.md's running example, as a user of the published packages writes
// it: a contract (schemas, event, commands) and its handlers.

export const userSchema = z.object({
  userId: z.string(),
  name: z.string(),
  email: z.email(),
  registeredAt: z.iso.datetime(),
})
export type User = z.infer<typeof userSchema>

export const userRegistered = defineEvent(
  'user.registered',
  z.object({ userId: z.string(), name: z.string(), email: z.email() }),
  'A new user was registered',
)

export const userV1 = defineService({ name: 'user', version: '1' })

export const registerNewUser = userV1.command('registerNewUser', {
  input: z.object({ name: z.string().min(1).max(200), email: z.email() }),
  output: z.object({ userId: z.string() }),
  emits: [userRegistered],
  http: { method: 'POST', path: '/users', successStatus: 201, public: true },
})

export const getUser = userV1.command('getUser', {
  input: z.object({}).optional(),
  parameter: z.object({ userId: z.string().min(1) }),
  output: userSchema,
  http: { method: 'GET', path: '/users/:userId', public: true },
})

const userKey = (userId: string) => `user:${userId}`

export const userV1Service = createService(userV1, {
  commands: [
    handleCommand(registerNewUser, async ({ name, email }, ctx) => {
      const user: User = { userId: randomUUID(), name, email, registeredAt: new Date().toISOString() }
      await ctx.stores.state.set(userKey(user.userId), user)
      await ctx.emit('user.registered', { userId: user.userId, name, email })
      return { userId: user.userId }
    }),
    handleCommand(getUser, async (_input, ctx) => {
      const { userId } = ctx.parameter
      const user = await ctx.stores.state.get<User>(userKey(userId))
      if (!user) throw new HandledError(404, `User ${userId} not found`, { userId })
      return user
    }),
  ],
})
