import { createServer as createHttpServer } from 'node:http'
import { type AddressInfo, createServer } from 'node:net'
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

const POLL = { timeout: 10_000, interval: 20 }
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

  it('gives a NoHandlerError (503) at once when Dapr finds no instance of the app id', async () => {
    const { bridge: client } = await world.bridge()
    const started = Date.now()
    const error = await client
      .invoke(quote, { sku: 'x' }, { timeout: 10_000 })
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(NoHandlerError)
    expect((error as NoHandlerError).message).toContain("couldn't find service")
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(client.pendingInvocations).toBe(0)
  })

  it('fails the call at once with a retryable 503 (outcome unknown) when the app drops the request mid-call', async () => {
    const dropping = createHttpServer((request) => request.socket.destroy())
    await new Promise<void>((resolve) => dropping.listen(0, '127.0.0.1', resolve))
    try {
      const { port } = dropping.address() as AddressInfo
      await world.emulator.addSidecar({ appId: 'pricing-v1', appPort: port })
      const { bridge: client } = await world.bridge()
      const started = Date.now()
      const error = await client
        .invoke(quote, { sku: 'x' }, { timeout: 10_000 })
        .catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(BridgeUnavailableError)
      expect(error).toMatchObject({ status: 503, retryable: true })
      expect((error as Error).message).toMatch(/ERR_DIRECT_INVOKE.*outcome is unknown/)
      expect(Date.now() - started).toBeLessThan(5_000)
    } finally {
      dropping.closeAllConnections()
      await new Promise((resolve) => dropping.close(resolve))
    }
  })

  it('fails the call at once when the app answers 200 with something that is not its reply', async () => {
    await world.plainApp('pricing-v1', [], () => ({ body: { hello: 'not an envelope' } }))
    const { bridge: client } = await world.bridge()
    const started = Date.now()
    const error = await client
      .invoke(quote, { sku: 'x' }, { timeout: 10_000 })
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(BridgeUnavailableError)
    expect((error as Error).message).toContain('not its reply')
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(world.logs.some((entry) => entry.msg === 'dropped malformed reply')).toBe(true)
  })
})

describe('the app side of an invocation', () => {
  it('carries a 1 MiB command and its 1 MiB reply (invocations never touch the pub/sub broker)', async () => {
    const echoV1 = defineService({ name: 'echo', version: '1' })
    const echo = echoV1.command('echo', {
      input: z.object({ text: z.string() }),
      output: z.object({ text: z.string() }),
    })
    const { bridge: server } = await world.bridge()
    await world.run(createService(echoV1, { commands: [handleCommand(echo, (input) => input)] }), server)
    const { bridge: client } = await world.bridge()
    const text = 'x'.repeat(1024 * 1024)
    const result = await client.invoke(echo, { text }, { timeout: 15_000 })
    expect(result.text === text).toBe(true)
  })

  it('answers a reply too large for maxPayloadBytes with the small 413 error the engine makes of it', async () => {
    const limit = 64 * 1024
    const catalogV1 = defineService({ name: 'catalog', version: '1' })
    const catalog = catalogV1.command('list', { input: z.object({}), output: z.object({ text: z.string() }) })
    const bloated = createService(catalogV1, {
      commands: [handleCommand(catalog, () => ({ text: 'x'.repeat(limit) }))],
    })
    const { bridge: server } = await world.bridge({ maxPayloadBytes: limit })
    await world.run(bloated, server)
    const { bridge: client } = await world.bridge({ maxPayloadBytes: limit })
    const error = await client.invoke(catalog, {}).catch((caught: unknown) => caught)
    expect(error).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE' })
    expect(server.isReady()).toBe(true)
  })

  it('reports a reply it could not write (the connection was cut) instead of throwing; the caller gets a 503', async () => {
    let release: () => void = () => undefined
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    let started = false
    const slowPricing = createService(pricingV1, {
      commands: [
        handleCommand(quote, async () => {
          started = true
          await held
          return { price: 1 }
        }),
      ],
    })
    const { bridge: server, sidecar: serverSidecar } = await world.bridge()
    await world.run(slowPricing, server)
    const { bridge: client } = await world.bridge()
    const call = client.invoke(quote, { sku: 'x' }, { timeout: 10_000 }).catch((caught: unknown) => caught)
    await expect.poll(() => started, POLL).toBe(true)
    serverSidecar.dropConnections()
    expect(await call).toMatchObject({ status: 503, retryable: true })
    release()
    await expect
      .poll(() => world.logs.filter((entry) => entry.action === 'send a reply').length, POLL)
      .toBe(1)
    expect(server.isReady()).toBe(true)
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
