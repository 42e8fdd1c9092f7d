/**
 * The two HTTP servers the `http` bench compares, run in a child process each so the load
 * generator never shares an event loop with the server it measures:
 *
 *   node --import tsx packages/http/bench/servers.ts gateway|baseline   (with an IPC channel)
 *
 * reports `{ type: 'listening', port }` once ready, answers any message with its CPU usage and
 * serves until killed.
 */
import { createService, defineService, handleCommand, MemoryBridge } from '@conduit/core'
import { Hono } from 'hono'
import { z } from 'zod'
import { createGateway, serveGateway } from '../src/index.js'

export const depositInput = z.object({
  accountId: z.string().min(1),
  amount: z.number().int().positive(),
  note: z.string().optional(),
})
export const depositOutput = z.object({ accountId: z.string(), balance: z.number() })

/** The business logic both servers run. */
const deposit = async (input: z.output<typeof depositInput>) => ({
  accountId: input.accountId,
  balance: input.amount + 1,
})

export const GATEWAY_PATH = '/api/v1/account/deposits'
export const BASELINE_PATH = '/deposits'

async function gatewayApp() {
  const accountV1 = defineService({ name: 'account', version: '1' })
  const depositCommand = accountV1.command('deposit', {
    input: depositInput,
    output: depositOutput,
    http: { method: 'POST', path: '/deposits', public: true },
  })
  const bridge = new MemoryBridge()
  await bridge.start()
  const account = createService(accountV1, {
    commands: [handleCommand(depositCommand, (input) => deposit(input))],
  })
  await (await account.getInstance(bridge)).start()
  return createGateway({ services: [accountV1], bridge })
}

/** What a developer would write by hand: parse JSON, zod-validate input, run, zod-validate output. */
function baselineApp() {
  const app = new Hono()
  app.post(BASELINE_PATH, async (c) => {
    let body: unknown
    try {
      body = await c.req.json()
    } catch {
      return c.json({ message: 'Malformed JSON' }, 400)
    }
    const input = depositInput.safeParse(body)
    if (!input.success) return c.json({ issues: input.error.issues }, 400)
    return c.json(depositOutput.parse(await deposit(input.data)))
  })
  return app
}

/** What a bench server tells its parent over the IPC channel. */
export type ServerMessage = { type: 'listening'; port: number } | { type: 'cpu'; micros: number }

if (process.send && process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const send = process.send.bind(process)
  const which = process.argv[2]
  const app = which === 'gateway' ? await gatewayApp() : which === 'baseline' ? baselineApp() : undefined
  if (!app) throw new Error('usage: servers.ts gateway|baseline (started by httpSuite.ts)')
  const served = await serveGateway(app, { port: 0, hostname: '127.0.0.1' })
  process.on('message', () => {
    const { user, system } = process.cpuUsage()
    send({ type: 'cpu', micros: user + system } satisfies ServerMessage)
  })
  // A clean exit on SIGTERM lets `node --cpu-prof` write its profile when profiling a server.
  process.once('SIGTERM', () => process.exit(0))
  send({ type: 'listening', port: served.port } satisfies ServerMessage)
}
