import { emailV1 } from '@conduit/example-monolith/email/definition'
import { userV1 } from '@conduit/example-monolith/user/definition'
import { runGatewayProcess } from '@conduit/http'
import { bridgeFromEnvironment } from '@conduit/runner'

// The HTTP gateway as its own process: it needs the service definitions, not their handlers;
// invocations cross the bridge (CONDUIT_BRIDGE and friends, as for the service processes) to
// whichever user-service process picks them up.
const port = Number(process.env.PORT ?? 3000)
await runGatewayProcess({ services: [userV1, emailV1], bridge: await bridgeFromEnvironment(), port })
console.info(`gateway on http://127.0.0.1:${port} (docs: /docs, OpenAPI: /openapi.json)`)
