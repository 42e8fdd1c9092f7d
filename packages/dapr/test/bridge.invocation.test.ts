import { createServer } from 'node:net'
import {
  BridgeUnavailableError,
  createService,
  defineService,
  type Envelope,
  handleCommand,
  NoHandlerError,
} from '@conduit/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { commandMethod, DaprBridge } from '../src/index.js'
import { DaprWorld } from './support/DaprWorld.js'
import { jsonOf } from './support/FakeApp.js'

// Commands over Dapr service invocation, through the emulator: the app-id mapping, what travels
// in the HTTP request, how a plain (non-Node) app can serve a Conduit command, and the errors.

const pricingV1 = defineService({ name: 'pricing', version: '1' })
const quote = pricingV1.command('quote', {
  input: z.object({ sku: z.string() }),
  output: z.object({ price: z.number() }),
})
const stockV2 = defineService({ name: 'stock', version: '2' })
const reserve = stockV2.command('reserve', {
  input: z.object({ sku: z.string() }),
  output: z.object({ ok: z.boolean() }),
})

const pricing = createService(pricingV1, { commands: [handleCommand(quote, () => ({ price: 12.5 }))] })
const stock = createService(stockV2, { commands: [handleCommand(reserve, () => ({ ok: true }))] })

let world: DaprWorld
beforeEach(async () => {
  world = await DaprWorld.create()
})
afterEach(async () => {
  await world.close()
})

describe('app ids', () => {
  it('invokes <service>-v<version> by default and serves as the app id of the first service', async () => {
    const { bridge: server } = await world.bridge()
    await world.run(pricing, server)
    expect(server.appId).toBe('pricing-v1')
    const { bridge: client } = await world.bridge()
    await expect(client.invoke(quote, { sku: 'a' })).resolves.toEqual({ price: 12.5 })
  })

  it('refuses to serve a second service that Dapr would route to another app id, unless appIdOf maps both to one', async () => {
    const { bridge } = await world.bridge()
    await world.run(pricing, bridge)
    await expect(world.run(stock, bridge)).rejects.toMatchObject({ code: 'DAPR_APP_ID_MISMATCH' })

    const monolith = () => 'shop-monolith'
    const { bridge: both } = await world.bridge({ appIdOf: monolith })
    await world.run(pricing, both)
    await world.run(stock, both)
    const { bridge: client } = await world.bridge({ appIdOf: monolith })
    await expect(client.invoke(reserve, { sku: 'b' })).resolves.toEqual({ ok: true })
    await expect(client.invoke(quote, { sku: 'b' })).resolves.toEqual({ price: 12.5 })
  })
})

describe('the invocation on the wire', () => {
  it('POSTs the envelope to /conduit/command/<service>/<version>/<command> with the deadline and trace headers', async () => {
    // A plain app serves the command by answering with a response envelope: interop for non-Node services.
    const { app } = await world.plainApp('pricing-v1', [], (request) => {
      const command = jsonOf(request) as Envelope
      const response: Envelope = {
        id: 'r1',
        type: 'response',
        specVersion: '1',
        time: Date.now(),
        correlationId: command.correlationId,
        inReplyTo: command.id,
        sender: { service: 'pricing', version: '1', instanceId: 'plain-app' },
        contentType: 'application/json',
        payload: { price: 99 },
      }
      return { body: response }
    })
    const { bridge: client } = await world.bridge()
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
    const before = Date.now()
    await expect(client.invoke(quote, { sku: 'x' }, { timeout: 5_000, traceparent })).resolves.toEqual({
      price: 99,
    })
    const [request] = app.requestsTo(
      `/${commandMethod({ service: 'pricing', version: '1', command: 'quote' })}`,
    )
    expect(request?.method).toBe('POST')
    const deadline = Number(request?.headers['conduit-deadline'])
    expect(deadline).toBeGreaterThanOrEqual(before + 5_000)
    expect(deadline).toBeLessThan(before + 6_000)
    expect(request?.headers.traceparent).toContain('0af7651916cd43dd8448eb211c80319c')
    expect(jsonOf(request)).toMatchObject({
      type: 'command',
      receiver: { service: 'pricing', command: 'quote' },
      deadline,
    })
  })

  it('gives a NoHandlerError (503) at once when the app runs but does not serve the command', async () => {
    await world.plainApp('pricing-v1', [], () => ({ status: 404, body: 'no such route' }))
    const { bridge: client } = await world.bridge()
    const started = Date.now()
    const error = await client
      .invoke(quote, { sku: 'x' }, { timeout: 10_000 })
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(NoHandlerError)
    expect((error as NoHandlerError).status).toBe(503)
    expect(Date.now() - started).toBeLessThan(5_000)
  })

  it('lets the caller time out (504) when Dapr cannot reach the app id, and logs what Dapr said', async () => {
    const { bridge: client } = await world.bridge()
    const error = await client
      .invoke(quote, { sku: 'x' }, { timeout: 300 })
      .catch((caught: unknown) => caught)
    expect(error).toMatchObject({ status: 504, code: 'TIMEOUT' })
    expect(client.pendingInvocations).toBe(0)
    const warning = world.logs.find((entry) => entry.msg.includes('Dapr could not complete the invocation'))
    expect(warning).toMatchObject({ appId: 'pricing-v1', dapr: expect.stringContaining('ERR_DIRECT_INVOKE') })
  })
})

describe('the sidecar connection', () => {
  it('fails start() with a BridgeUnavailableError when no sidecar answers in sidecarWaitMs', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const server = createServer()
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number }
        server.close(() => resolve(port))
      })
    })
    const bridge = new DaprBridge({ daprHttpPort: closedPort, appPort: 0, sidecarWaitMs: 300 })
    await expect(bridge.start()).rejects.toBeInstanceOf(BridgeUnavailableError)
    expect(bridge.isReady()).toBe(false)
  })

  it('fails calls at once with a BridgeUnavailableError (503) and reports not ready while the sidecar is gone', async () => {
    const { bridge: server } = await world.bridge()
    await world.run(pricing, server)
    const { bridge: client, sidecar } = await world.bridge()
    await expect(client.invoke(quote, { sku: 'a' })).resolves.toEqual({ price: 12.5 })
    await sidecar.close()
    const error = await client
      .invoke(quote, { sku: 'a' }, { timeout: 10_000 })
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(BridgeUnavailableError)
    expect(client.isReady()).toBe(false)
    expect(client.pendingInvocations).toBe(0)
  })

  it('reports ready once the sidecar answered and the app port listens, and not after stop()', async () => {
    const { bridge } = await world.bridge()
    expect(bridge.isReady()).toBe(true)
    expect(bridge.isHealthy()).toBe(true)
    await bridge.stop()
    expect(bridge.isReady()).toBe(false)
  })
})
