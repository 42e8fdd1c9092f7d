import { createEventHandler } from '@conduit/aws-lambda'
import { emailV1Service } from '../app/email.js'

// The email service as a Lambda function fed by an SQS queue (ReportBatchItemFailures).
export const handler = createEventHandler(emailV1Service)

export { listSentMails } from '../app/email.js'
