import { CapabilityError } from '@conduit/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { NatsBridge } from '../src/index.js'
import { auditService, orderPlaced, placeOrder, shopService, Testbed } from './fixtures.js'
import { PrivateNatsServer, privateServerUnavailable } from './privateServer.js'

const unavailable = privateServerUnavailable()
if (unavailable) console.info(`[nats] tests without JetStream skipped: ${unavailable}`)

describe.skipIf(unavailable !== undefined)(
  'NATS bridge on a server without JetStream',
  { timeout: 30_000 },
  () => {
    let server: PrivateNatsServer
    let bed: Testbed
    let bridge: NatsBridge

    beforeAll(async () => {
      server = await PrivateNatsServer.start({ jetStream: false })
      bed = new Testbed(server.url)
      bridge = await bed.bridge()
    })

    afterAll(async () => {
      await Promise.allSettled([bed?.close()]) // close() also tries to delete streams: there are none
      await server?.dispose()
    })

    it('declares durable and dead-letter inspection unsupported, with the reason', () => {
      expect(bridge.capabilities.durable).toEqual({
        supported: false,
        reason: expect.stringContaining('JetStream'),
      })
      expect(bridge.capabilities.deadLetterInspection.supported).toBe(false)
    })

    it('refuses a durable subscription at start(), naming bridge, subscription and capability', async () => {
      const error = await bed
        .run(
          auditService(() => undefined),
          bridge,
        )
        .catch((e: unknown) => e)
      expect(error).toBeInstanceOf(CapabilityError)
      expect((error as Error).message).toMatch(
        /nats cannot run subscription audit\.v1\.recordOrder.*"durable"/,
      )
    })

    it('still serves commands and at-most-once events', async () => {
      await bed.run(shopService('A'), bridge)
      const client = await bed.bridge()
      await expect(client.invoke(placeOrder, { id: 1 })).resolves.toEqual({ id: 1, by: 'A' })
      await expect(client.emit(orderPlaced, { id: 2 })).resolves.toBeUndefined()
    })
  },
)
