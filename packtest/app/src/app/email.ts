import { randomUUID } from 'node:crypto'
import {
  createService,
  defineService,
  HandledError,
  handleSubscription,
  type StateStore,
} from '@conduit/core'
import { z } from 'zod'
import { userRegistered } from './user.js'

// The email service: a durable subscription on user.registered. A mailbox named `bounce@...`
// fails with a retryable HandledError (the Lambda fixture checks that such a record is reported
// back to SQS, and that the logged error type survives minification).

export const emailV1 = defineService({
  name: 'email',
  version: '1',
  config: z.object({ from: z.email() }),
  defaultConfig: { from: 'welcome@conduit.example' },
})

export const sendWelcomeMail = emailV1.subscription('sendWelcomeMail', {
  event: userRegistered,
  delivery: 'durable',
})

export interface SentMail {
  mailId: string
  userId: string
  from: string
  to: string
  subject: string
}

const MAIL_PREFIX = 'mail:'

export const emailV1Service = createService(emailV1, {
  subscriptions: [
    handleSubscription(sendWelcomeMail, async ({ userId, name, email }, ctx) => {
      if (email.startsWith('bounce@')) throw new HandledError(503, `Mailbox ${email} is unavailable`)
      const mail: SentMail = {
        mailId: randomUUID(),
        userId,
        from: ctx.config.from,
        to: email,
        subject: `Welcome, ${name}!`,
      }
      await ctx.stores.state.set(`${MAIL_PREFIX}${mail.mailId}`, mail)
    }),
  ],
})

export async function listSentMails(state: StateStore): Promise<SentMail[]> {
  const keys: string[] = []
  for await (const key of state.keys(MAIL_PREFIX)) keys.push(key)
  const mails = await state.getMany<SentMail>(keys)
  return mails.filter((mail): mail is SentMail => mail !== undefined)
}
