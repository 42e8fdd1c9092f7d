import { BridgeUnavailableError } from '@conduit/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type NatsBridge, NatsSubjects } from '../src/index.js'
import { auditService, orderPlaced, placeOrder, shopService, Testbed } from './fixtures.js'
import { PrivateNatsServer, privateServerUnavailable } from './privateServer.js'

const POLL = { timeout: 15_000, interval: 50 }
const unavailable = privateServerUnavailable()
if (unavailable) console.info(`[nats] reconnect tests skipped: ${unavailable}`)

// One scenario in steps, against a private server this test kills and restarts.
describe.skipIf(unavailable !== undefined)('NATS bridge across broker restarts', { timeout: 30_000 }, () => {
  let server: PrivateNatsServer
  let bed: Testbed
  let serving: NatsBridge
  let client: NatsBridge
  const audited: number[] = []

  beforeAll(async () => {
    server = await PrivateNatsServer.start()
    bed = new Testbed(server.url)
    const fastReconnect = { connection: { reconnectTimeWait: 100 } }
    serving = await bed.bridge(fastReconnect)
    client = await bed.bridge(fastReconnect)
    await bed.run(shopService('A'), serving)
    await bed.run(
      auditService((id) => void audited.push(id)),
      serving,
    )
  })

  afterAll(async () => {
    await bed?.close()
    await server?.dispose()
  })

  it('works before the outage', async () => {
    await expect(client.invoke(placeOrder, { id: 1 })).resolves.toEqual({ id: 1, by: 'A' })
    await expect.poll(() => audited, POLL).toEqual([1])
  })

  it('reports not ready and fails calls fast while the broker is down', async () => {
    await server.kill()
    await expect.poll(() => client.isReady(), POLL).toBe(false)
    await expect.poll(() => serving.isReady(), POLL).toBe(false)
    expect(client.isHealthy()).toBe(true) // still trying: a restart of this process would not help
    const started = performance.now()
    await expect(client.invoke(placeOrder, { id: 2 })).rejects.toBeInstanceOf(BridgeUnavailableError)
    await expect(client.emit(orderPlaced, { id: 2 })).rejects.toBeInstanceOf(BridgeUnavailableError)
    expect(performance.now() - started).toBeLessThan(500)
  })

  it('is ready again after the broker returns, with commands and durable subscriptions working', async () => {
    await server.restart()
    await expect.poll(() => client.isReady() && serving.isReady(), POLL).toBe(true)
    await expect(client.invoke(placeOrder, { id: 3 })).resolves.toEqual({ id: 3, by: 'A' })
    await expect.poll(() => audited, POLL).toEqual([1, 3])
  })

  it('re-creates its stream and consumer when the broker comes back without them', async () => {
    await server.restart({ freshState: true })
    await expect.poll(() => client.isReady() && serving.isReady(), POLL).toBe(true)
    const admin = await bed.admin()
    const stream = new NatsSubjects(bed.prefix).eventStream
    await expect
      .poll(async () => (await admin.jsm.consumers.info(stream, 'audit~v1~recordOrder')).name, POLL)
      .toBe('audit~v1~recordOrder')
    await client.invoke(placeOrder, { id: 4 })
    await expect.poll(() => audited, POLL).toEqual([1, 3, 4])
  })

  it('stops within its drain bound while the broker is down', async () => {
    await server.kill()
    await expect.poll(() => serving.isReady(), POLL).toBe(false)
    const started = performance.now()
    await serving.stop()
    expect(performance.now() - started).toBeLessThan(5_000)
    await server.restart() // for the clean-up
  })
})
