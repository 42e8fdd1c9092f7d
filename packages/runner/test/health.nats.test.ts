import { PrivateNatsServer } from '@conduit/bridge-conformance'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { probe, RunnerChild } from './support/RunnerChild.js'

// Liveness that means something: a nats-server of this test's own, killed by pid, and a bridge
// that gives up after two reconnect attempts. The shared server on 4222 is never touched.
let broker: PrivateNatsServer
let child: RunnerChild

beforeAll(async () => {
  broker = await PrivateNatsServer.start()
  child = new RunnerChild({ FIXTURE_GIVE_UP_NATS: broker.url, CONDUIT_PREFIX: 'runnerhealth' })
})
afterAll(async () => {
  await child?.dispose()
  await broker?.dispose()
})

describe('/healthz on NATS', () => {
  it('turns 503 once the client has given up for good, and says so in the log', async () => {
    const url = await child.healthUrl()
    expect(await probe(`${url}/healthz`)).toEqual({ status: 200, body: { status: 'ok' } })
    expect(await probe(`${url}/readyz`)).toMatchObject({ status: 200 })

    await broker.kill()
    await expect
      .poll(async () => (await probe(`${url}/healthz`)) as any, { timeout: 20_000, interval: 100 })
      .toMatchObject({ status: 503 })
    expect(await probe(`${url}/healthz`)).toEqual({
      status: 503,
      body: {
        status: 'unhealthy',
        reason: 'the nats bridge is not healthy (its client gave up or it is stopped)',
      },
    })
    expect(await probe(`${url}/readyz`)).toMatchObject({
      status: 503,
      body: { status: 'not ready', checks: { bridge: { ready: false, detail: 'nats' } } },
    })
    await child.waitForLine('liveness lost: /healthz answers 503', 5_000)

    // a process whose broker is gone still stops on SIGTERM
    child.signal('SIGTERM')
    expect((await child.exited).code).toBe(0)
  })
})
