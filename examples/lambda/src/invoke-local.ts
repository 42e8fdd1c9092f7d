/**
 * `pnpm invoke-local [--built]`: invokes the two functions' handlers with the events in
 * events/ (shaped as AWS sends them) and prints what they answer. With `--built` it loads the
 * bundles `pnpm build` wrote to dist/ (what `sam build` deploys) instead of the sources.
 *
 * The EventBridge bus between the functions is simulated: the user function's event bus
 * transport hands its PutEvents entries to this script, which delivers them to the email
 * function the way template.yaml wires it (rule → SQS queue → event source mapping), and once
 * directly (a rule with the function as target).
 */
import { readFileSync } from 'node:fs'
import { createEventBusTransport, type PutEventsEntry } from '@conduit/aws-lambda'
import { eventBridgeEventFrom, lambdaContext, sqsEventFrom } from '@conduit/aws-lambda/testing'
import { listSentMails } from '@conduit/example-monolith/email/service'
import type { createEmailHandler } from './email-function.js'
import type { createUserHandler } from './user-function.js'

// Runtime logs at info would bury the results; warnings (e.g. the malformed record) stay.
process.env.CONDUIT_LOG_LEVEL ??= 'warn'
const built = process.argv.includes('--built')
const modules = (name: string) => (built ? `../dist/${name}.mjs` : `./${name}.js`)
const { createUserHandler: userHandler } = (await import(modules('user-function'))) as {
  createUserHandler: typeof createUserHandler
}
const { createEmailHandler: emailHandler } = (await import(modules('email-function'))) as {
  createEmailHandler: typeof createEmailHandler
}

const event = (name: string) =>
  JSON.parse(readFileSync(new URL(`../events/${name}.json`, import.meta.url), 'utf8'))
const print = (line: string) => process.stdout.write(`${line}\n`)
const problems: string[] = []
const expect = (what: string, actual: unknown, expected: unknown) => {
  if (JSON.stringify(actual) !== JSON.stringify(expected))
    problems.push(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`)
}

const bus: PutEventsEntry[] = []
const user = userHandler({
  outgoing: createEventBusTransport({
    eventBusName: 'conduit-local',
    putEvents: async (entries) => {
      bus.push(...entries)
      return { FailedEntryCount: 0, Entries: entries.map((_, index) => ({ EventId: `local-${index}` })) }
    },
  }),
  closeOnSigterm: false,
})
const email = emailHandler({ closeOnSigterm: false })

print(`Invoking the ${built ? 'built bundles (dist/)' : 'sources (src/)'}`)

const registered = await user(event('register-user.http-api'), lambdaContext())
print(`user  ← HTTP API POST /api/v1/user/users: ${registered.statusCode} ${registered.body}`)
expect('register (HTTP API) status', registered.statusCode, 201)
const { userId } = JSON.parse(registered.body ?? '{}') as { userId: string }

const viaUrl = await user(event('register-user.function-url'), lambdaContext())
print(`user  ← function URL POST /api/v1/user/users: ${viaUrl.statusCode} ${viaUrl.body}`)
expect('register (function URL) status', viaUrl.statusCode, 201)

const getUser = event('get-user.rest-api')
getUser.path = getUser.path.replace('{userId}', userId)
const read = await user(getUser, lambdaContext())
print(`user  ← REST API GET ${getUser.path}: ${read.statusCode} ${read.body}`)
expect('get user status', read.statusCode, 200)

const openapiRequest = event('register-user.http-api')
openapiRequest.rawPath = openapiRequest.requestContext.http.path = '/openapi.json'
openapiRequest.requestContext.http.method = 'GET'
openapiRequest.body = undefined
const spec = await user(openapiRequest, lambdaContext())
print(
  `user  ← GET /openapi.json: ${spec.statusCode}, paths ${Object.keys(JSON.parse(spec.body ?? '{}').paths ?? {}).join(', ')}`,
)
expect('openapi status', spec.statusCode, 200)

print(
  `bus   : ${bus.length} PutEvents entries: ${bus.map((entry) => `${entry.Source} ${entry.DetailType}`).join(', ')}`,
)
expect(
  'events put on the bus',
  bus.map((entry) => entry.DetailType),
  ['user.registered', 'user.registered'],
)

const fromQueue = await email(sqsEventFrom(bus.map(eventBridgeEventFrom)), lambdaContext())
print(`email ← SQS batch of ${bus.length} (rule → queue): ${JSON.stringify(fromQueue)}`)
expect('queue batch failures', fromQueue.batchItemFailures, [])

const withBadRecord = await email(event('user-registered.sqs'), lambdaContext())
print(`email ← SQS batch with a malformed record: ${JSON.stringify(withBadRecord)}`)
expect('malformed record reported', withBadRecord.batchItemFailures.length, 1)

await email(event('user-registered.eventbridge'), lambdaContext())
print('email ← EventBridge rule → function: handled')

const mails = await listSentMails((await email.runtime.ready()).stores.state)
for (const mail of mails.sort((a, b) => a.to.localeCompare(b.to)))
  print(`mail  → ${mail.to}: ${mail.subject}`)
expect('welcome mails', mails.map((mail) => mail.to).sort(), [
  'ada@example.org',
  'dorothy@example.org',
  'grace@example.org',
  'katherine@example.org',
])

await Promise.all([user.close(), email.close()])
print(
  problems.length === 0 ? 'OK: every invocation answered as expected' : `FAILED:\n  ${problems.join('\n  ')}`,
)
process.exitCode = problems.length === 0 ? 0 : 1
