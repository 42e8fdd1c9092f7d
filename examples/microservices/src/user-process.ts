import { userV1Service } from '@conduit/example-monolith/user/service'
import { runServices } from './runProcess.js'

// The user service alone: the same handlers as the monolith, now one process of many.
await runServices([userV1Service])
