import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import {
  CapabilityError,
  createService,
  DefinitionError,
  defineService,
  EventBridge,
  handleCommand,
  handleSubscription,
  MemoryBroker,
  ValidationError,
} from '../src/index.js'
import { createMemoryTransport, memoryCapabilities, unsupported } from '../src/transport/index.js'

describe('service definitions', () => {
  it('refuses duplicate names, bad names, bad timeouts and retries without durability', () => {
    const service = defineService({ name: 'orders', version: '1' })
    service.command('place', { input: z.object({}), output: z.object({}) })
    expect(() => service.command('place', { input: z.object({}), output: z.object({}) })).toThrow(
      /already declares/,
    )
    expect(() => service.command('place order', { input: z.object({}), output: z.object({}) })).toThrow(
      DefinitionError,
    )
    expect(() => service.command('slow', { input: z.object({}), output: z.object({}), timeout: -1 })).toThrow(
      /timeout must be a positive/,
    )
    expect(() => service.subscription('onX', { event: 'x.y', maxAttempts: 3 })).toThrow(
      /needs delivery 'durable'/,
    )
    expect(() => service.subscription('onY', { event: 'x.>' })).toThrow(/Invalid event pattern/)
    expect(() => defineService({ name: 'orders', version: '1.0' })).toThrow(/Invalid version/)
  })

  it('createService wants exactly one handler per declaration, all of this service', () => {
    const a = defineService({ name: 'a', version: '1' })
    const ping = a.command('ping', { input: z.object({}), output: z.object({}) })
    const pong = a.command('pong', { input: z.object({}), output: z.object({}) })
    const b = defineService({ name: 'b', version: '1' })
    const other = b.command('other', { input: z.object({}), output: z.object({}) })
    expect(() => createService(a, { commands: [handleCommand(ping, () => ({}))] })).toThrow(
      /no handler for command\(s\) pong/,
    )
    expect(() =>
      createService(a, {
        commands: [
          handleCommand(ping, () => ({})),
          handleCommand(pong, () => ({})),
          handleCommand(other, () => ({})),
        ],
      }),
    ).toThrow(/"other" is not declared on this service/)
  })

  it('validates the service config at getInstance, naming the field', async () => {
    const configured = defineService({
      name: 'mailer',
      version: '1',
      config: z.object({ from: z.email() }),
      defaultConfig: { from: 'noreply@example.org' },
    })
    const service = createService(configured, {})
    const bridge = new EventBridge(createMemoryTransport(new MemoryBroker()))
    await expect(service.getInstance(bridge)).resolves.toMatchObject({
      config: { from: 'noreply@example.org' },
    })
    const error = await service.getInstance(bridge, { config: { from: 'nope' } }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ValidationError)
    expect((error as ValidationError).message).toMatch(/Invalid config of mailer v1: from/)
  })

  it('start() refuses a subscription needing a capability the bridge lacks, before registering anything', async () => {
    const lacking = { ...createMemoryTransport(new MemoryBroker()) }
    Object.assign(lacking, {
      name: 'limited',
      capabilities: { ...memoryCapabilities, durable: unsupported('the limited test bridge keeps nothing') },
    })
    const bridge = new EventBridge(lacking)
    await bridge.start()
    const audit = defineService({ name: 'audit', version: '1' })
    const record = audit.command('record', { input: z.object({}), output: z.object({}) })
    const onAny = audit.subscription('onAnything', { event: 'x.y', delivery: 'durable' })
    const service = createService(audit, {
      commands: [handleCommand(record, () => ({}))],
      subscriptions: [handleSubscription(onAny, () => undefined)],
    })
    const instance = await service.getInstance(bridge)
    const error = await instance.start().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(CapabilityError)
    expect((error as Error).message).toBe(
      'limited cannot run subscription audit.v1.onAnything: it needs the capability "durable", which limited lacks (the limited test bridge keeps nothing)',
    )
    // nothing was registered: the command has no handler
    await expect(bridge.invoke(record, {})).rejects.toMatchObject({ status: 503 })
    await bridge.stop()
  })
})

describe('durable subscriptions and permanent failures', () => {
  it('dead-letters an invalid payload at once instead of retrying it', async () => {
    const { MemoryBridge, defineEvent } = await import('../src/index.js')
    const orderPlaced = defineEvent('order.placed', z.object({ orderId: z.string() }))
    const billing = defineService({ name: 'billing', version: '1' })
    const charge = billing.subscription('charge', { event: orderPlaced, delivery: 'durable', maxAttempts: 4 })
    let calls = 0
    const service = createService(billing, {
      subscriptions: [handleSubscription(charge, () => void calls++)],
    })
    const bridge = new MemoryBridge({ retryBackoff: { initialMs: 1, maxMs: 5 } })
    await bridge.start()
    await (await service.getInstance(bridge)).start()
    await bridge.emit('order.placed', { orderId: 42 })
    await expect.poll(async () => (await bridge.readDeadLetters(charge)).length).toBe(1)
    expect(calls).toBe(0)
    await bridge.stop()
  })
})
