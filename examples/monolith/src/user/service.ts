import { randomUUID } from 'node:crypto'
import { createService, handleCommand } from '@conduit/core'
import { getUser, registerNewUser, type User, userNotFound, userV1 } from './definition.js'

const userKey = (userId: string) => `user:${userId}`

/** The user service's handlers. Users live in the instance's state store. */
export const userV1Service = createService(userV1, {
  commands: [
    handleCommand(registerNewUser, async ({ name, email }, ctx) => {
      const user: User = { userId: randomUUID(), name, email, registeredAt: new Date().toISOString() }
      await ctx.stores.state.set(userKey(user.userId), user)
      ctx.logger.info({ userId: user.userId }, 'user registered')
      await ctx.emit('user.registered', { userId: user.userId, name, email })
      return { userId: user.userId }
    }),
    handleCommand(getUser, async (_input, ctx) => {
      const { userId } = ctx.parameter
      const user = await ctx.stores.state.get<User>(userKey(userId))
      if (!user) throw userNotFound(userId)
      return user
    }),
  ],
})
