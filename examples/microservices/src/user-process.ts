import { userV1Service } from '@conduit/example-monolith/user/service'
import { runServices } from '@conduit/runner'

// The user service alone: the same handlers as the monolith, now one process of many. The
// bridge, health port and drain timeout come from the environment (docs/operations.md).
await runServices({ services: [userV1Service] })
