// A function module as Lambda loads it, run in a child process by lifecycle.test.ts: it serves
// one request, says "ready", and reports what closing did once the parent sends SIGTERM.
import { createNatsTransport } from '@conduit/nats'
import { createHttpHandler } from '../../src/index.js'
import { fixture, lambdaContext } from './lambda.js'
import { userService } from './services.js'

const outgoing = createNatsTransport({
  servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
  prefix: process.env.NATS_PREFIX,
})
const disconnect = outgoing.disconnect.bind(outgoing)
outgoing.disconnect = async () => {
  await disconnect()
  process.stdout.write(
    `outgoing-stopped connection=${outgoing.connection === undefined ? 'closed' : 'open'}\n`,
  )
}

const handler = createHttpHandler(userService, { outgoing, auth: () => undefined })

const result = await handler(fixture('api-gateway-v2'), lambdaContext())
process.stdout.write(`ready status=${result.statusCode}\n`)
