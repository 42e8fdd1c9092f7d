import { emailV1Service } from '@conduit/example-monolith/email/service'
import { userV1Service } from '@conduit/example-monolith/user/service'
import { runServices } from '@conduit/runner'

// Both services in one process, as the monolith, but on a broker: run it twice and the two
// processes share the work.
await runServices({ services: [userV1Service, emailV1Service] })
