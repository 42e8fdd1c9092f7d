import { createHttpHandler, type HttpHandlerOptions } from '@conduit/aws-lambda'
// The monolith example's service, unchanged: its definition and handlers, deployed as a function.
import { userV1Service } from '@conduit/example-monolith/user/service'
import { outgoingFromEnvironment } from './outgoingTransport.js'

/**
 * The user service behind API Gateway (HTTP API), a REST API or a function URL: every command
 * with an `http` binding is a route, `/openapi.json` documents them.
 */
export function createUserHandler(options: HttpHandlerOptions = {}) {
  return createHttpHandler(userV1Service, {
    outgoing: outgoingFromEnvironment(),
    openapi: { title: 'User service', version: '1' },
    // The docs page would read Swagger UI's files from node_modules/swagger-ui-dist on first use,
    // which the bundle does not ship; /openapi.json is served either way.
    docs: false,
    ...options,
  })
}

/** Lambda's entry point (template.yaml: `Handler: user-function.handler`). */
export const handler = createUserHandler()
