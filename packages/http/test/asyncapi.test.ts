import { Parser } from '@asyncapi/parser'
import { NatsBridge } from '@conduit/nats'
import { describe, expect, it } from 'vitest'
import { ASYNCAPI_PATH, createGateway } from '../src/index.js'
import { userRegistered, userV1 } from './support/services.js'

// The document needs the bridge's names only: a bridge that was never started serves it.
const services = [userV1]

describe('GET /asyncapi.json', () => {
  it("serves a valid AsyncAPI 3.0 document with the bridge's real subjects, next to /openapi.json", async () => {
    const app = createGateway({
      services,
      bridge: new NatsBridge({ prefix: 'shop' }),
      publicByDefault: true,
      asyncapi: { title: 'Shop events', events: [userRegistered] },
    })
    const response = await app.request(ASYNCAPI_PATH)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toContain('application/json')
    const parsed = await new Parser().parse(await response.text())
    expect(parsed.diagnostics.filter((diagnostic) => diagnostic.severity === 0)).toEqual([])
    expect(parsed.document!.info().title()).toBe('Shop events')
    const addresses = parsed
      .document!.channels()
      .all()
      .map((channel) => channel.address())
    expect(addresses).toEqual(
      expect.arrayContaining(['shop.evt.user.registered', 'shop.cmd.user.v1.registerUser']),
    )
    expect((await app.request('/openapi.json')).status).toBe(200)
  }, 30_000) // the parser's first load takes seconds on a busy machine

  it('is not served unless asked for', async () => {
    const app = createGateway({ services, bridge: new NatsBridge(), publicByDefault: true })
    expect((await app.request(ASYNCAPI_PATH)).status).toBe(404)
  })
})
