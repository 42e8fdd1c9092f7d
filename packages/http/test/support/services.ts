import { setTimeout as sleep } from 'node:timers/promises'
import { createService, defineEvent, defineService, HandledError, handleCommand } from '@conduit/core'
import { z } from 'zod'

/** Definitions and handlers the gateway tests run against: one command per status to map. */
export const userRegistered = defineEvent(
  'user.registered',
  z.object({ userId: z.string(), email: z.email() }),
)

const user = z.object({ userId: z.string(), name: z.string(), email: z.email() }).meta({ id: 'User' })

export const userV1 = defineService({ name: 'user', version: '1', description: 'Users and their accounts' })

export const registerUser = userV1.command('registerUser', {
  description: 'Registers a user and emits user.registered',
  input: z.object({ name: z.string().min(1), email: z.email() }),
  output: user,
  emits: [userRegistered],
  http: { method: 'POST', path: '/users', successStatus: 201, summary: 'Register a user' },
})

export const getUser = userV1.command('getUser', {
  input: z.object({}),
  output: user,
  parameter: z.object({ userId: z.string().min(1) }),
  http: { method: 'GET', path: '/users/:userId', public: true, summary: 'Read a user' },
})

export const listUsers = userV1.command('listUsers', {
  input: z.object({}),
  output: z.object({ users: z.array(user), limit: z.number().int() }),
  parameter: z.object({
    limit: z.coerce.number().int().min(1).max(100).default(10),
    name: z.string().optional(),
  }),
  http: { method: 'GET', path: '/users', public: true, summary: 'List users' },
})

export const deleteUser = userV1.command('deleteUser', {
  input: z.object({}).optional(),
  output: z.void(),
  parameter: z.object({ userId: z.string() }),
  http: { method: 'DELETE', path: '/users/:userId', successStatus: 204, summary: 'Delete a user (admins)' },
  hooks: {
    guards: [
      (_input, hook) => {
        if (hook.principalId !== 'admin') throw new HandledError(403, 'Only admins delete users')
      },
    ],
  },
})

export const whoAmI = userV1.command('whoAmI', {
  input: z.object({}),
  output: z.object({ principalId: z.string().optional(), tenantId: z.string().optional() }),
  http: { method: 'GET', path: '/me', summary: 'The caller, as the service sees it', tags: ['session'] },
})

export const echo = userV1.command('echo', {
  input: z.object({ text: z.string() }),
  output: z.object({ text: z.string(), length: z.number().int() }),
  http: { method: 'PUT', path: '/echo', public: true },
})

export const crash = userV1.command('crash', {
  input: z.object({}).optional(),
  output: z.object({}),
  http: { method: 'POST', path: '/crash', public: true },
})

export const badOutput = userV1.command('badOutput', {
  input: z.object({}),
  output: z.object({ count: z.number() }),
  http: { method: 'GET', path: '/bad-output', public: true },
})

export const slow = userV1.command('slow', {
  input: z.object({}).optional(),
  output: z.object({}),
  timeout: 150,
  http: { method: 'POST', path: '/slow', public: true },
})

/** A command without HTTP binding: never routed. */
export const internalOnly = userV1.command('internalOnly', { input: z.object({}), output: z.object({}) })

/** A service whose handlers never run in the tests: its routes answer 503. */
export const billingV1 = defineService({ name: 'billing', version: '1' })
export const charge = billingV1.command('charge', {
  input: z.object({ amount: z.number().positive() }),
  output: z.object({ chargeId: z.string() }),
  http: { method: 'POST', path: '/charges', public: true },
})

export const SECRET_IN_STACK = 'db-password-hunter2'

export function createUserService() {
  const users = new Map<string, z.output<typeof user>>()
  return createService(userV1, {
    commands: [
      handleCommand(registerUser, async (input, ctx) => {
        if ([...users.values()].some((existing) => existing.email === input.email)) {
          throw new HandledError(409, 'Email already registered', { email: input.email })
        }
        const userId = `u-${users.size + 1}`
        const created = { userId, ...input }
        users.set(userId, created)
        await ctx.emit('user.registered', { userId, email: input.email })
        return created
      }),
      handleCommand(getUser, async (_input, ctx) => {
        const found = users.get(ctx.parameter.userId)
        if (!found) throw new HandledError(404, `No user ${ctx.parameter.userId}`)
        return found
      }),
      handleCommand(listUsers, async (_input, ctx) => ({
        users: [...users.values()]
          .filter((u) => !ctx.parameter.name || u.name === ctx.parameter.name)
          .slice(0, ctx.parameter.limit),
        limit: ctx.parameter.limit,
      })),
      handleCommand(deleteUser, async (_input, ctx) => {
        users.delete(ctx.parameter.userId)
      }),
      handleCommand(whoAmI, async (_input, ctx) => ({
        principalId: ctx.principalId,
        tenantId: ctx.tenantId,
      })),
      handleCommand(echo, async (input) => ({ text: input.text, length: input.text.length })),
      handleCommand(crash, async () => {
        throw new Error(`connection refused for ${SECRET_IN_STACK}`)
      }),
      handleCommand(badOutput, async () => ({ count: 'many' }) as never),
      handleCommand(slow, async (_input, ctx) => {
        // Answers well after the deadline, so the caller's timeout always wins the race.
        await sleep(2_000, undefined, { signal: ctx.signal }).catch(() => undefined)
        await sleep(100)
        return {}
      }),
      handleCommand(internalOnly, async () => ({})),
    ],
  })
}
