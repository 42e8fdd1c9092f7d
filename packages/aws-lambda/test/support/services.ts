import {
  createService,
  defineEvent,
  defineService,
  HandledError,
  handleCommand,
  handleSubscription,
} from '@conduit/core'
import { z } from 'zod'

// Two small services standing for the two kinds of function: `user` answers HTTP requests,
// `mailer` consumes events. Tests read what the handlers did from the records below.

export const userRegistered = defineEvent(
  'user.registered',
  z.object({ userId: z.string(), name: z.string(), email: z.email() }),
)
export const mailSent = defineEvent('mail.sent', z.object({ userId: z.string(), to: z.email() }))

/** Served elsewhere (on the broker), invoked by the user function through its outgoing transport. */
export const quotaV1 = defineService({ name: 'quota', version: '1' })
export const checkQuota = quotaV1.command('checkQuota', {
  input: z.object({ email: z.email() }),
  output: z.object({ allowed: z.boolean(), by: z.string() }),
})

export const userV1 = defineService({ name: 'user', version: '1' })
export const registerUser = userV1.command('registerUser', {
  input: z.object({ name: z.string().min(1), email: z.email() }),
  output: z.object({ userId: z.string() }),
  emits: [userRegistered],
  http: { method: 'POST', path: '/users', successStatus: 201, public: true },
})
export const getUser = userV1.command('getUser', {
  input: z.object({}).optional(),
  parameter: z.object({ userId: z.string(), verbose: z.string().optional() }),
  output: z.object({ userId: z.string(), verbose: z.boolean() }),
  http: { method: 'GET', path: '/users/:userId', public: true },
})
export const renameUser = userV1.command('renameUser', {
  input: z.object({ name: z.string().min(1) }),
  parameter: z.object({ userId: z.string() }),
  output: z.object({ userId: z.string(), name: z.string(), by: z.string().optional() }),
  http: { method: 'PATCH', path: '/users/:userId' },
})
export const crash = userV1.command('crash', {
  input: z.object({}).optional(),
  output: z.null(),
  http: { method: 'POST', path: '/crash', public: true },
})
export const waitForDeadline = userV1.command('waitForDeadline', {
  input: z.object({}).optional(),
  output: z.null(),
  http: { method: 'POST', path: '/slow', public: true },
})
export const registerWithQuota = userV1.command('registerWithQuota', {
  input: z.object({ email: z.email() }),
  output: z.object({ allowed: z.boolean(), by: z.string() }),
  invokes: [checkQuota],
  http: { method: 'POST', path: '/quota-checked', public: true },
})

let nextUser = 0
export const userService = createService(userV1, {
  commands: [
    handleCommand(registerUser, async ({ name, email }, ctx) => {
      const userId = `user-${++nextUser}`
      await ctx.emit('user.registered', { userId, name, email })
      return { userId }
    }),
    handleCommand(getUser, async (_input, ctx) => {
      if (ctx.parameter.userId === 'nobody')
        throw new HandledError(404, 'User nobody not found', { userId: 'nobody' })
      return { userId: ctx.parameter.userId, verbose: ctx.parameter.verbose === 'true' }
    }),
    handleCommand(renameUser, async ({ name }, ctx) => ({
      userId: ctx.parameter.userId,
      name,
      by: ctx.principalId,
    })),
    handleCommand(crash, async () => {
      throw new Error('database password is hunter2')
    }),
    handleCommand(waitForDeadline, async (_input, ctx) => {
      await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }))
      // Answers only after its deadline, so the caller's timeout always wins.
      await new Promise((resolve) => setTimeout(resolve, 100))
      return null
    }),
    handleCommand(registerWithQuota, async ({ email }, ctx) => ctx.invoke(checkQuota, { email })),
  ],
})

/** What the mailer's subscriptions saw, in order. */
export interface MailerRecord {
  subscription: string
  eventName: string
  payload: unknown
  attempt: number
  correlationId: string
  traceparent: string | undefined
  sender: unknown
}

export const mailerV1 = defineService({ name: 'mailer', version: '1' })
export const sendWelcome = mailerV1.subscription('sendWelcome', {
  event: userRegistered,
  delivery: 'durable',
  maxAttempts: 3,
  emits: [mailSent],
})
export const auditUsers = mailerV1.subscription('auditUsers', {
  event: 'user.*',
  input: z.unknown(),
  filter: { sender: { service: 'user' } },
})

/** The mailer: `sendWelcome` fails for users named "fail"; `auditUsers` only sees events the user service sent. */
export function createMailerService(records: MailerRecord[]) {
  const record = (subscription: string, payload: unknown, ctx: { message: any; attempt: number }) =>
    records.push({
      subscription,
      eventName: ctx.message.eventName,
      payload,
      attempt: ctx.attempt,
      correlationId: ctx.message.correlationId,
      traceparent: ctx.message.traceparent,
      sender: ctx.message.sender,
    })
  return createService(mailerV1, {
    subscriptions: [
      handleSubscription(sendWelcome, async (payload, ctx) => {
        if (payload.name === 'fail') throw new Error('mail server refused the message')
        record('sendWelcome', payload, ctx)
        await ctx.emit('mail.sent', { userId: payload.userId, to: payload.email })
      }),
      handleSubscription(auditUsers, async (payload, ctx) => {
        record('auditUsers', payload, ctx)
      }),
    ],
  })
}
