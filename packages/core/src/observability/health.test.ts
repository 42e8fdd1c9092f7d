import { describe, expect, it } from 'vitest'
import { MemoryBridge } from '../memory/MemoryBridge.js'
import { HealthMonitor } from './health.js'

describe('HealthMonitor', () => {
  it('is ready with a running bridge and passing checks, names the first failing check, and times changes', async () => {
    const bridge = new MemoryBridge()
    await bridge.start()
    let databaseUp = true
    const health = new HealthMonitor(bridge, { database: () => databaseUp })
    expect(await health.readiness()).toMatchObject({
      ready: true,
      checks: { bridge: { ready: true }, database: { ready: true } },
    })
    databaseUp = false
    const down = await health.readiness()
    expect(down).toMatchObject({ ready: false, reason: 'database not ready' })
    expect(down.sinceChangeMs).toBeLessThan(1_000)
    await bridge.stop()
  })

  it('turns not ready for good once stopping, whatever the checks say', async () => {
    const bridge = new MemoryBridge()
    await bridge.start()
    const health = new HealthMonitor(bridge)
    health.markStopping()
    expect(await health.readiness()).toMatchObject({ ready: false, reason: 'shutting down' })
    expect(health.liveness()).toEqual({ live: true })
    await bridge.stop()
    expect(health.liveness().live).toBe(false)
  })

  it('a check that throws or hangs is not ready, with its reason', async () => {
    const bridge = new MemoryBridge()
    await bridge.start()
    const health = new HealthMonitor(bridge, {
      broken: () => {
        throw new Error('connection refused')
      },
    })
    expect(await health.readiness()).toMatchObject({
      ready: false,
      reason: 'broken not ready (connection refused)',
    })
    await bridge.stop()
  })
})
