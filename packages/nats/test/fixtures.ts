import {
  createService,
  defineEvent,
  defineService,
  type EventBridge,
  type EventBridgeOptions,
  handleCommand,
  handleSubscription,
  type Service,
  type ServiceInstance,
} from '@conduit/core'
import { z } from 'zod'
import { NatsBridge, type NatsBridgeOptions } from '../src/index.js'
import { NATS_URL, NatsAdmin, uniquePrefix } from './support.js'

export const orderPlaced = defineEvent('order.placed', z.object({ id: z.number().int() }))

export const shopV1 = defineService({ name: 'shop', version: '1' })
export const placeOrder = shopV1.command('placeOrder', {
  input: z.object({ id: z.number().int() }),
  output: z.object({ id: z.number().int(), by: z.string() }),
  emits: [orderPlaced],
})

export const auditV1 = defineService({ name: 'audit', version: '1' })
export const recordOrder = auditV1.subscription('recordOrder', {
  event: orderPlaced,
  delivery: 'durable',
  maxAttempts: 2,
})
export const RECORD_ORDER_GROUP = 'audit.v1.recordOrder'

export const monitorV1 = defineService({ name: 'monitor', version: '1' })
export const watchOrders = monitorV1.subscription('watchOrders', {
  event: orderPlaced,
  delivery: 'durable',
  everyInstance: true,
})

export function shopService(label: string): Service {
  return createService(shopV1, {
    commands: [
      handleCommand(placeOrder, async ({ id }, ctx) => {
        await ctx.emit('order.placed', { id })
        return { id, by: label }
      }),
    ],
  })
}

/** An audit service whose handler is given per test (record, fail, hang, ...). */
export function auditService(handle: (id: number, attempt: number) => void | Promise<void>): Service {
  return createService(auditV1, {
    subscriptions: [handleSubscription(recordOrder, async ({ id }, ctx) => handle(id, ctx.attempt))],
  })
}

export function monitorService(seen: number[]): Service {
  return createService(monitorV1, {
    subscriptions: [handleSubscription(watchOrders, ({ id }) => void seen.push(id))],
  })
}

/** Bridges under one fresh prefix, stopped and cleaned up (streams, consumers) by close(). */
export class Testbed {
  readonly prefix = uniquePrefix('nt')
  constructor(readonly servers: string = NATS_URL) {}

  private readonly bridges: EventBridge[] = []
  private readonly instances: ServiceInstance[] = []
  private adminConnection: NatsAdmin | undefined

  async admin(): Promise<NatsAdmin> {
    this.adminConnection ??= await NatsAdmin.connect(this.servers)
    return this.adminConnection
  }

  async bridge(options: Partial<NatsBridgeOptions> = {}): Promise<NatsBridge> {
    const bridge = new NatsBridge({
      servers: this.servers,
      prefix: this.prefix,
      retryBackoff: { initialMs: 50, maxMs: 200 },
      drainTimeout: 2_000,
      ...options,
    } satisfies NatsBridgeOptions & EventBridgeOptions)
    this.bridges.push(bridge)
    await bridge.start()
    return bridge
  }

  async run(service: Service, bridge: EventBridge): Promise<ServiceInstance> {
    const instance = await service.getInstance(bridge)
    await instance.start()
    this.instances.push(instance)
    return instance
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.instances.map((instance) => instance.stop()))
    await Promise.allSettled(this.bridges.map((bridge) => bridge.stop()))
    const admin = await this.admin()
    await admin.deleteNamespace(this.prefix)
    await admin.close()
  }
}
