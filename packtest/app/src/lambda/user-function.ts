import { createHttpHandler } from '@conduit/aws-lambda'
import { userV1Service } from '../app/user.js'

// The user service as a Lambda function behind an HTTP API, written as docs/aws-lambda.md shows.
// `docs` is left unset: a function that never serves /docs must not need swagger-ui-dist.
export const handler = createHttpHandler(userV1Service, {
  openapi: { title: 'User service', version: '1' },
})
