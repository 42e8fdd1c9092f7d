import { createService, defineService, handleCommand, MemoryBridge } from '@conduit/core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { z } from 'zod'
import { createGateway, type ServedGateway, serveGateway } from '../src/index.js'

// A conditional store write that loses inside a handler is a 409 for the HTTP caller, with the
// code a client can branch on, not a 500.
const profileV1 = defineService({ name: 'profile', version: '1' })
const renameProfile = profileV1.command('rename', {
  input: z.object({ name: z.string(), version: z.string() }),
  output: z.object({ version: z.string() }),
  parameter: z.object({ id: z.string() }),
  http: { method: 'PUT', path: '/profiles/:id', public: true },
})

let bridge: MemoryBridge
let served: ServedGateway
let staleVersion = ''
beforeAll(async () => {
  bridge = new MemoryBridge()
  await bridge.start()
  const service = createService(profileV1, {
    commands: [
      handleCommand(renameProfile, async ({ name, version }, ctx) => ({
        version: await ctx.stores.state.set(`profile:${ctx.parameter.id}`, { name }, { ifVersion: version }),
      })),
    ],
  })
  const instance = await service.getInstance(bridge)
  await instance.start()
  served = await serveGateway(createGateway({ services: [profileV1], bridge }), {
    port: 0,
    hostname: '127.0.0.1',
  })
  const first = await instance.stores.state.set('profile:p1', { name: 'Ada' })
  await instance.stores.state.set('profile:p1', { name: 'Ada L.' }) // p1 moves past `first`
  staleVersion = first
})
afterAll(async () => {
  await served?.close()
  await bridge?.stop()
})

it('a ConflictError from a conditional write answers 409 CONFLICT through the gateway', async () => {
  const response = await fetch(`${served.url}/api/v1/profile/profiles/p1`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Grace', version: staleVersion }),
  })
  expect(response.status).toBe(409)
  expect(await response.json()).toMatchObject({ status: 409, code: 'CONFLICT', retryable: false })
})
