import { emailV1Service } from '@conduit/example-monolith/email/service'
import { runServices } from './runProcess.js'

// The email service alone. Run it twice: its durable subscription is one consumer group, so
// each welcome mail is sent by one of the instances.
await runServices([emailV1Service])
