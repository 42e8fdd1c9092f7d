import { randomUUID } from 'node:crypto'
import { createService, handleSubscription, type StateStore } from '@conduit/core'
import { emailV1, type SentMail, sendWelcomeMail } from './definition.js'

const MAIL_PREFIX = 'mail:'

/**
 * The email service's handler. "Sending" a mail here means logging it and recording it in the
 * instance's state store; a real service would call a mail provider at the same place.
 */
export const emailV1Service = createService(emailV1, {
  subscriptions: [
    handleSubscription(sendWelcomeMail, async ({ userId, name, email }, ctx) => {
      const mail: SentMail = {
        mailId: randomUUID(),
        userId,
        from: ctx.config.from,
        to: email,
        subject: `Welcome, ${name}!`,
        text: `Hello ${name}, your account ${userId} is ready.`,
        sentAt: new Date().toISOString(),
      }
      await ctx.stores.state.set(`${MAIL_PREFIX}${mail.mailId}`, mail)
      ctx.logger.info({ mailId: mail.mailId, userId }, 'welcome mail sent')
    }),
  ],
})

/** Every mail recorded in an email service instance's state store. */
export async function listSentMails(state: StateStore): Promise<SentMail[]> {
  const keys: string[] = []
  for await (const key of state.keys(MAIL_PREFIX)) keys.push(key)
  const mails = await state.getMany<SentMail>(keys)
  return mails.filter((mail): mail is SentMail => mail !== undefined)
}
