import { emailV1Service } from '@conduit/example-monolith/email/service'
import { runServices } from '@conduit/runner'

// The email service alone. Run it twice: its durable subscription is one consumer group, so
// each welcome mail is sent by one of the instances.
await runServices({ services: [emailV1Service] })
