import { createEventHandler, type EventHandlerOptions } from '@conduit/aws-lambda'
// The monolith example's service, unchanged: its definition and handlers, deployed as a function.
import { emailV1Service } from '@conduit/example-monolith/email/service'
import { outgoingFromEnvironment } from './outgoingTransport.js'

/**
 * The email service fed by its queue (an EventBridge rule puts `user.registered` there), by
 * EventBridge rules targeting the function directly, or by SNS: `sendWelcomeMail` runs once
 * per event; failed records go back to the queue, and after 5 receives to its DLQ.
 */
export function createEmailHandler(options: EventHandlerOptions = {}) {
  return createEventHandler(emailV1Service, { outgoing: outgoingFromEnvironment(), ...options })
}

/** Lambda's entry point (template.yaml: `Handler: email-function.handler`). */
export const handler = createEmailHandler()
