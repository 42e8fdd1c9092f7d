/**
 * One cold start in a fresh process: `node --import tsx bench/coldStart.ts conduit|raw`, or
 * `node <bundle>.mjs` for a bundle of this file built by the suite. It loads the function
 * module (Lambda's init phase), invokes it once, and prints the timings as one JSON line.
 * The raw side is a hand-written handler doing the same work without Conduit.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda'

type Handler = (event: APIGatewayProxyEventV2) => Promise<{ statusCode?: number; body?: string }>

const which = process.env.COLD_START_SIDE ?? process.argv[2]
const started = performance.now()
let handler: Handler
let close = async () => {}
const { depositRequest } = await import('./deposit.js')
if (which === 'raw') {
  handler = (await import('./deposit.js')).rawHttpHandler
} else {
  const { conduitHttpHandler } = await import('./conduitFunction.js')
  handler = conduitHttpHandler
  close = () => conduitHttpHandler.close()
}
const loaded = performance.now()
const result = await handler(depositRequest())
const invoked = performance.now()
if (result.statusCode !== 200)
  throw new Error(`cold invocation answered ${result.statusCode}: ${result.body}`)
process.stdout.write(
  `${JSON.stringify({ loadMs: loaded - started, firstInvocationMs: invoked - loaded, sinceProcessStartMs: invoked })}\n`,
)
await close()
