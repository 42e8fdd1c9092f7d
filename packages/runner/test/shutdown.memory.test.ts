import { afterEach, describe, expect, it } from 'vitest'
import { probe, RunnerChild } from './support/RunnerChild.js'

// Shutdown of a service-only process on the in-memory bridge: the caller of the slow commands is
// the process itself (FIXTURE_SELF_CALLS), nothing else can reach it.
const children: RunnerChild[] = []
function start(env: Record<string, string>): RunnerChild {
  const child = new RunnerChild({ CONDUIT_BRIDGE: 'memory', ...env })
  children.push(child)
  return child
}

afterEach(async () => {
  await Promise.all(children.splice(0).map((child) => child.dispose()))
})

describe('shutdown on the memory bridge', () => {
  it('/readyz turns 503 at once on SIGTERM, while the listener still answers and a handler drains', async () => {
    const child = start({ FIXTURE_SELF_CALLS: JSON.stringify([{ service: 'a', ms: 2_000 }]) })
    const url = await child.healthUrl()
    expect(await probe(`${url}/readyz`)).toMatchObject({ status: 200, body: { status: 'ready' } })
    await child.waitForLine('work started')
    child.signal('SIGTERM')
    await expect
      .poll(async () => (await probe(`${url}/readyz`)) as any, { timeout: 1_000, interval: 20 })
      .toMatchObject({ status: 503 })
    const seenWhileDraining = {
      readyz: await probe(`${url}/readyz`),
      healthz: await probe(`${url}/healthz`),
      handlerFinished: child.line('work finished') !== undefined,
      listenerClosed: child.line('health server closed') !== undefined,
    }
    expect(seenWhileDraining).toMatchObject({
      readyz: {
        status: 503,
        body: { status: 'not ready', reason: 'SIGTERM received', checks: { bridge: { ready: true } } },
      },
      healthz: { status: 200, body: { status: 'ok' } },
      handlerFinished: false,
      listenerClosed: false,
    })
    expect((seenWhileDraining.readyz as { body: { sinceChangeMs: number } }).body.sinceChangeMs).toBeLessThan(
      2_000,
    )
    expect((await child.exited).code).toBe(0)
    expect(child.line('self call answered')?.label).toBe('self-0')
    expect(await probe(`${url}/readyz`)).toBe('refused')
  })

  it('drains every instance once, together: two handlers past the bound end the process at the bound, not twice it', async () => {
    const drainTimeoutMs = 2_000
    const child = start({
      CONDUIT_DRAIN_TIMEOUT_MS: String(drainTimeoutMs),
      FIXTURE_SELF_CALLS: JSON.stringify([
        { service: 'a', ms: 60_000 },
        { service: 'b', ms: 60_000 },
      ]),
    })
    await child.waitForLine('process ready')
    await expect.poll(() => child.lines.filter((line) => line.msg === 'work started').length).toBe(2)
    const sentAt = child.signal('SIGTERM')
    const exit = await child.exited
    expect(exit.code).toBe(0)
    // one bound: sequential stops would take two (4 s) before the bridge even disconnects
    expect(exit.at - sentAt).toBeGreaterThanOrEqual(drainTimeoutMs - 50)
    expect(exit.at - sentAt).toBeLessThan(drainTimeoutMs + 1_500)
    expect(child.line('drain timeout reached: handlers still running are abandoned')).toBeDefined()
  })

  it('a second signal exits at once with 128 + its number', async () => {
    const child = start({
      CONDUIT_DRAIN_TIMEOUT_MS: '30000',
      FIXTURE_SELF_CALLS: JSON.stringify([{ service: 'a', ms: 60_000 }]),
    })
    await child.waitForLine('work started')
    child.signal('SIGINT')
    await child.waitForLine('shutting down: /readyz answers 503, intake stopped, draining handlers in flight')
    const secondAt = child.signal('SIGTERM')
    const exit = await child.exited
    expect(exit.code).toBe(143)
    expect(exit.at - secondAt).toBeLessThan(1_000)
    expect(child.line('second signal: exiting now without finishing shutdown')).toMatchObject({
      signal: 'SIGTERM',
      first: 'SIGINT',
    })
    expect(child.line('process stopped')).toBeUndefined()
  })
})
