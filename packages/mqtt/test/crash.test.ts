import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { ledgerService, orderPlaced, type Seen } from './fixtures.js'
import { lossReports, recordLogs } from './support/observed.js'
import { BROKER_URL, MqttWorld } from './support.js'

let world: MqttWorld
let worker: ChildProcess | undefined
afterEach(async () => {
  if (worker && worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL')
  await world.close()
}, 20_000)

/** Starts test/processes/durableWorker.ts and collects its stdout lines. */
function startWorker(prefix: string): { process: ChildProcess; lines: string[] } {
  const script = fileURLToPath(new URL('./processes/durableWorker.ts', import.meta.url))
  const child = spawn(process.execPath, ['--import', 'tsx', script, BROKER_URL, prefix], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { ...process.env, CONDUIT_LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const lines: string[] = []
  child.stdout!.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)))
  return { process: child, lines }
}

describe('a durable member that crashes', { timeout: 30_000 }, () => {
  it('leaves its unacknowledged event to another member, redelivered as a second attempt', async () => {
    world = new MqttWorld()
    const started = startWorker(world.prefix)
    worker = started.process
    await expect.poll(() => started.lines, { timeout: 15_000 }).toContain('ready')
    const emitter = await world.bridge()
    await emitter.emit(orderPlaced, { orderId: 7 })
    await emitter.emit(orderPlaced, { orderId: 8 })
    await expect.poll(() => started.lines, { timeout: 5_000 }).toContain('handling 7')

    worker.kill('SIGKILL') // no DISCONNECT: the broker notices the dead socket and fires the will

    const seen: Seen[] = []
    const logs = recordLogs()
    await world.run(ledgerService('survivor', seen), await world.bridge({ logger: logs.logger }))
    await expect
      .poll(() => seen.map(({ orderId, attempt }) => ({ orderId, attempt })), { timeout: 15_000 })
      .toEqual([
        { orderId: 7, attempt: 2 },
        { orderId: 8, attempt: 1 },
      ])
    // The adopter counts packet identifiers from the redelivered 7: nothing was dropped.
    expect(lossReports(logs)).toEqual([])
  })
})
