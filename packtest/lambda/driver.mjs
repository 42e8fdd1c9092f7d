// `node driver.mjs http|sqs <bundle.mjs> <fixtures dir>`: loads a bundled Lambda function the way
// the Lambda Node.js runtime does (an ESM import of the handler file, nothing else on the
// module path), invokes its handler with AWS-shaped events and prints one line,
// `PACKTEST_RESULT {...}`, with what it answered and when (ms since the process started).
// Only Node built-ins here: the bundle must bring everything else.
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

const [kind, bundle, fixtures] = process.argv.slice(2)
if (!kind || !bundle || !fixtures) throw new Error('usage: node driver.mjs http|sqs <bundle> <fixtures>')
const fixture = (name) => JSON.parse(readFileSync(join(fixtures, name), 'utf8'))

function lambdaContext(functionName) {
  const endsAt = Date.now() + 30_000
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-2:123456789012:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `2025/03/10/[$LATEST]${randomUUID().replaceAll('-', '')}`,
    getRemainingTimeInMillis: () => Math.max(0, endsAt - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  }
}

const result = { kind, node: process.version }
const importStarted = performance.now()
const module = await import(pathToFileURL(bundle).href)
result.importMs = performance.now() - importStarted
const { handler } = module

if (kind === 'http') {
  const register = fixture('api-gateway-v2.http-api.json')
  const first = await handler(register, lambdaContext('user-function'))
  result.coldStartMs = performance.now()
  result.register = first
  const userId = JSON.parse(first.body ?? '{}').userId
  const get = structuredClone(register)
  get.rawPath = get.requestContext.http.path = `/api/v1/user/users/${userId}`
  get.requestContext.http.method = 'GET'
  delete get.body
  delete get.headers['content-type']
  delete get.headers['content-length']
  result.get = await handler(get, lambdaContext('user-function'))
  const invalid = structuredClone(register)
  invalid.body = JSON.stringify({ name: '', email: 'not an email' })
  invalid.headers['content-length'] = String(Buffer.byteLength(invalid.body))
  result.invalid = await handler(invalid, lambdaContext('user-function'))
  const openapi = structuredClone(get)
  openapi.rawPath = openapi.requestContext.http.path = '/openapi.json'
  result.openapi = await handler(openapi, lambdaContext('user-function'))
} else if (kind === 'sqs') {
  const event = fixture('sqs.json')
  result.response = await handler(event, lambdaContext('email-function'))
  result.coldStartMs = performance.now()
  result.records = event.Records.map((record) => record.messageId)
  const instance = await handler.runtime.ready()
  result.mails = (await module.listSentMails(instance.stores.state)).map((mail) => mail.to).sort()
} else {
  throw new Error(`unknown kind ${kind}`)
}
await handler.close()
process.stdout.write(`PACKTEST_RESULT ${JSON.stringify(result)}\n`)
