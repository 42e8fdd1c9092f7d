import { createServer } from 'node:net'
import { createDefaultLogger, MemoryBridge } from '@conduit/core'
import { describe, expect, it } from 'vitest'
import { slowAService, workA } from '../test/fixtures/slowServices.js'
import { runServices } from './runServices.js'

// In process, without owning it (no signals, no exit): what a test or a larger process uses.
const logger = createDefaultLogger({}, { level: 'silent' })
const env = { CONDUIT_HEALTH_PORT: '0', CONDUIT_HEALTH_HOST: '127.0.0.1' }

describe('runServices({ ownsProcess: false })', () => {
  it('runs the services until stop(), which resolves true after a clean shutdown', async () => {
    const running = await runServices({ services: [slowAService], env, logger, ownsProcess: false })
    expect(running.bridge.name).toBe('memory')
    expect((await fetch(`${running.healthUrl}/readyz`)).status).toBe(200)
    const call = running.bridge.invoke(workA, { ms: 200, label: 'in process' })
    expect((await running.health.readiness()).ready).toBe(true)
    const stopped = running.stop('test over')
    expect((await running.health.readiness()).reason).toBe('test over')
    await expect(call).resolves.toMatchObject({ label: 'in process' })
    expect(await stopped).toBe(true)
    await expect(fetch(`${running.healthUrl}/readyz`)).rejects.toThrow()
    expect(running.instances.every((instance) => !instance.isRunning)).toBe(true)
  })

  it('throws a startup failure after stopping what it started', async () => {
    const taken = createServer()
    const port = await new Promise<number>((resolve) =>
      taken.listen(0, '127.0.0.1', () => resolve((taken.address() as { port: number }).port)),
    )
    const bridge = new MemoryBridge({ logger })
    try {
      await expect(
        runServices({
          services: [slowAService],
          bridge,
          health: { port, hostname: '127.0.0.1' },
          logger,
          ownsProcess: false,
        }),
      ).rejects.toThrow(/health server could not listen .*EADDRINUSE/)
      expect(bridge.isHealthy()).toBe(false) // stopped again
    } finally {
      taken.close()
    }
  })
})
