import { createDefaultLogger } from '@conduit/core'
import { NatsBridge } from '@conduit/nats'
import { NatsAdmin, uniquePrefix } from '@conduit/nats/testing'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_DRAIN_TIMEOUT_MS, DISCONNECT_TIMEOUT_MS } from '../src/index.js'
import { workA } from './fixtures/slowServices.js'
import { RunnerChild } from './support/RunnerChild.js'

// A service-only process on NATS with the default (documented) drain bound; the caller is this
// test process, on its own bridge.
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222'
const prefix = uniquePrefix('runner')
const caller = new NatsBridge({
  servers: NATS_URL,
  prefix,
  logger: createDefaultLogger({}, { level: 'silent' }),
})
const children: RunnerChild[] = []

beforeAll(() => caller.start())
afterEach(async () => {
  await Promise.all(children.splice(0).map((child) => child.dispose()))
})
afterAll(async () => {
  await caller.stop()
  const admin = await NatsAdmin.connect(NATS_URL)
  await admin.deleteNamespace(prefix)
  await admin.close()
})

describe('shutdown on NATS', () => {
  it('SIGTERM with a slow call in flight: the caller gets its answer, then the process exits 0 within the bound', async () => {
    const child = new RunnerChild({ CONDUIT_BRIDGE: 'nats', NATS_URL, CONDUIT_PREFIX: prefix })
    children.push(child)
    await child.waitForLine('process ready')
    let answeredAt = 0
    const call = caller
      .invoke(workA, { ms: 1_500, label: 'in flight' }, { timeout: 15_000 })
      .then((output) => {
        answeredAt = performance.now()
        return output
      })
    await child.waitForLine('work started')
    const sentAt = child.signal('SIGTERM')

    await expect(call).resolves.toEqual({ label: 'in flight', pid: expect.any(Number) })
    const exit = await child.exited
    expect(exit.code).toBe(0)
    expect(answeredAt).toBeLessThanOrEqual(exit.at)
    expect(exit.at - sentAt).toBeLessThan(DEFAULT_DRAIN_TIMEOUT_MS + DISCONNECT_TIMEOUT_MS)
    // each step once, in order
    const steps = [
      'signal received (a second one exits at once)',
      'shutting down: /readyz answers 503, intake stopped, draining handlers in flight',
      'work finished',
      'services drained',
      'bridge disconnected',
      'health server closed',
      'process stopped',
    ]
    const shutdownLines = child.lines.map((line) => line.msg).filter((message) => steps.includes(message))
    expect(shutdownLines).toEqual(steps)
    expect(child.line('process stopped')).toMatchObject({ clean: true })
  })

  it('after SIGTERM, a new call is not taken by the draining process', async () => {
    const child = new RunnerChild({ CONDUIT_BRIDGE: 'nats', NATS_URL, CONDUIT_PREFIX: prefix })
    children.push(child)
    await child.waitForLine('process ready')
    const first = caller.invoke(workA, { ms: 1_500, label: 'first' }, { timeout: 15_000 })
    await child.waitForLine('work started')
    child.signal('SIGTERM')
    await child.waitForLine('shutting down: /readyz answers 503, intake stopped, draining handlers in flight')
    // nothing else serves slowa: with intake stopped the second call finds no handler
    const second = caller.invoke(workA, { ms: 0, label: 'second' }, { timeout: 1_000 })
    await expect(second).rejects.toThrow()
    await expect(first).resolves.toMatchObject({ label: 'first' })
    expect((await child.exited).code).toBe(0)
    expect(child.lines.filter((line) => line.msg === 'work started')).toHaveLength(1)
  })
})
