import { defineService } from '@conduit/core'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { buildRouteTable, defaultRoutePath } from './routes.js'

const options = { prefix: '/api', publicByDefault: false, routePath: defaultRoutePath }

describe('buildRouteTable', () => {
  it('derives paths, parameters, statuses and ids from the definitions only', () => {
    const orders = defineService({ name: 'orders', version: '2' })
    orders.command('getOrder', {
      input: z.object({}),
      output: z.object({}),
      http: { method: 'GET', path: '/orders/:orderId/lines/:lineId', public: true },
    })
    orders.command('placeOrder', {
      input: z.object({ sku: z.string() }),
      output: z.object({}),
      http: { method: 'POST', path: '/orders', successStatus: 201, tags: ['checkout'] },
    })
    orders.command('ping', { input: z.void(), output: z.void() })
    const [get, place] = buildRouteTable([orders], options)
    expect(get).toMatchObject({
      method: 'GET',
      path: '/api/v2/orders/orders/:orderId/lines/:lineId',
      openApiPath: '/api/v2/orders/orders/{orderId}/lines/{lineId}',
      pathParameters: ['orderId', 'lineId'],
      isPublic: true,
      successStatus: 200,
      readsBody: false,
      emptyPayload: {},
      operationId: 'orders_v2_getOrder',
      tags: ['orders'],
    })
    expect(place).toMatchObject({ isPublic: false, successStatus: 201, readsBody: true, tags: ['checkout'] })
    expect(buildRouteTable([orders], options)).toHaveLength(2)
  })

  it('sends undefined as the empty payload when the input accepts it', () => {
    const service = defineService({ name: 'jobs', version: '1' })
    service.command('runAll', { input: z.void(), output: z.void(), http: { method: 'POST', path: '/run' } })
    expect(buildRouteTable([service], options)[0]!.emptyPayload).toBeUndefined()
  })

  it('refuses two commands on the same method and path shape', () => {
    const service = defineService({ name: 'dup', version: '1' })
    const spec = { input: z.object({}), output: z.object({}) }
    service.command('a', { ...spec, http: { method: 'GET', path: '/things/:id' } })
    service.command('b', { ...spec, http: { method: 'GET', path: '/things/:name' } })
    expect(() => buildRouteTable([service], options)).toThrow(/dup.v1.b and dup.v1.a both bind GET/)
  })

  it('refuses a GET command whose input needs a body', () => {
    const service = defineService({ name: 'search', version: '1' })
    service.command('find', {
      input: z.object({ text: z.string() }),
      output: z.object({}),
      http: { method: 'GET', path: '/find' },
    })
    expect(() => buildRouteTable([service], options)).toThrow(/a GET request has no body/)
  })

  it('refuses malformed paths', () => {
    const service = defineService({ name: 'odd', version: '1' })
    service.command('x', {
      input: z.object({}),
      output: z.object({}),
      http: { method: 'POST', path: '/a b' },
    })
    expect(() => buildRouteTable([service], options)).toThrow(/invalid segment/)
  })
})
