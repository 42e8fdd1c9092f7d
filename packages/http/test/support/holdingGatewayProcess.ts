/**
 * A gateway process for the shutdown tests, run with `node --import tsx`: `POST /api/v1/hold/hold`
 * stays in flight until the test writes `release` to stdin, and `GET /api/events` is an event
 * stream that never ends by itself. The command's service runs beside the gateway on a bridge of
 * its own (one broker, as two processes would share one), so the gateway owns and stops its bridge.
 */
import { createInterface } from 'node:readline'
import { createService, defineService, handleCommand, MemoryBridge, MemoryBroker } from '@conduit/core'
import { z } from 'zod'
import { runGatewayProcess } from '../../src/index.js'

const holdV1 = defineService({ name: 'hold', version: '1' })
const hold = holdV1.command('hold', {
  input: z.object({}).optional(),
  output: z.object({ released: z.boolean() }),
  http: { method: 'POST', path: '/hold', public: true },
})

let release!: () => void
const released = new Promise<void>((resolve) => {
  release = resolve
})
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === 'release') release()
})

const broker = new MemoryBroker()
const serviceBridge = new MemoryBridge({ broker })
await serviceBridge.start()
const service = createService(holdV1, {
  commands: [
    handleCommand(hold, async (_input, ctx) => {
      ctx.logger.info('hold started')
      await released
      return { released: true }
    }),
  ],
})
await (await service.getInstance(serviceBridge)).start()

await runGatewayProcess({
  services: [holdV1],
  bridge: new MemoryBridge({ broker }),
  port: 0,
  hostname: '127.0.0.1',
  publicByDefault: true,
  sse: { eventPattern: 'hold.#' },
  shutdownDelayMs: Number(process.env.SHUTDOWN_DELAY_MS),
  closeTimeoutMs: Number(process.env.CLOSE_TIMEOUT_MS),
})
