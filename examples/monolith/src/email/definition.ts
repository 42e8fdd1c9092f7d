import { defineService } from '@conduit/core'
import { z } from 'zod'
import { userRegistered } from '../user/definition.js'

// The email service's contract. It depends on the user service only through the
// user.registered event's definition, never on the user service's handlers.

export const sentMailSchema = z.object({
  mailId: z.string(),
  userId: z.string(),
  from: z.email(),
  to: z.email(),
  subject: z.string(),
  text: z.string(),
  sentAt: z.iso.datetime(),
})
export type SentMail = z.infer<typeof sentMailSchema>

export const emailV1 = defineService({
  name: 'email',
  version: '1',
  description: 'Sends mails when things happen elsewhere',
  config: z.object({ from: z.email() }),
  defaultConfig: { from: 'welcome@conduit.example' },
})

export const sendWelcomeMail = emailV1.subscription('sendWelcomeMail', {
  description: 'Sends one welcome mail per registered user',
  event: userRegistered,
  delivery: 'durable',
})
