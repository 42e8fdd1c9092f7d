import { MemoryBridge } from '@conduit/core'
import { sign } from 'hono/jwt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bearerJwtAuth, createGateway, HandledError } from './support/exports.js'
import {
  bearer,
  expiredToken,
  hs256Token,
  rs256Token,
  rsaKeys,
  startTestGateway,
  type TestGateway,
} from './support/gateway.js'
import { readJson } from './support/http.js'
import { userV1 } from './support/services.js'

let gateway: TestGateway
const me = () => gateway.url('/api/v1/user/me')

beforeAll(async () => {
  gateway = await startTestGateway()
})
afterAll(() => gateway.stop())

async function expect401(response: Response, message: string | RegExp) {
  expect(response.status).toBe(401)
  expect(response.headers.get('www-authenticate')).toBe('Bearer')
  const body = await readJson(response)
  expect(body.code).toBe('UNAUTHORIZED')
  expect(body.message).toMatch(message)
}

describe('default bearer JWT verifier (HS256)', () => {
  it('sets principal and tenant on the envelope from a valid token', async () => {
    const response = await fetch(me(), {
      headers: bearer(await hs256Token({ sub: 'ada', tenantId: 'acme' })),
    })
    expect(response.status).toBe(200)
    expect(await readJson(response)).toEqual({ principalId: 'ada', tenantId: 'acme' })
  })

  it('401 for a missing token', async () => {
    await expect401(await fetch(me()), 'Missing bearer token')
  })

  it('401 for a header that is not a bearer token', async () => {
    await expect401(await fetch(me(), { headers: { authorization: 'Basic YWRhOnB3' } }), /Bearer <token>/)
  })

  it('401 for a token signed with another secret', async () => {
    const forged = await hs256Token({}, 'another-secret-that-is-also-long-enough!!')
    await expect401(await fetch(me(), { headers: bearer(forged) }), 'Token signature is invalid')
  })

  it('401 for garbage', async () => {
    await expect401(await fetch(me(), { headers: bearer('not.a.jwt') }), 'Token is invalid')
  })

  it('401 for an expired token', async () => {
    await expect401(await fetch(me(), { headers: bearer(await expiredToken()) }), 'Token expired')
  })

  it('401 for a token without exp', async () => {
    const eternal = await sign({ sub: 'ada' }, 'test-secret-that-is-long-enough-for-hs256!', 'HS256')
    await expect401(await fetch(me(), { headers: bearer(eternal) }), 'Token has no expiry (exp)')
  })

  it('401 for a token signed with another algorithm (no alg confusion)', async () => {
    const { privateKey } = rsaKeys()
    await expect401(
      await fetch(me(), { headers: bearer(await rs256Token(privateKey)) }),
      'Token algorithm is not accepted',
    )
  })

  it('public endpoints need no token', async () => {
    const response = await fetch(gateway.url('/api/v1/user/users?limit=5'))
    expect(response.status).toBe(200)
  })

  it('refuses an HS256 secret shorter than 32 bytes', () => {
    expect(() => bearerJwtAuth({ secret: 'short' })).toThrow(/at least 32 bytes/)
  })
})

describe('RS256 and custom hooks', () => {
  it('verifies RS256 tokens with a PEM public key, issuer and audience', async () => {
    const { publicKey, privateKey } = rsaKeys()
    const rs = await startTestGateway({
      auth: { publicKey, issuer: 'https://id.example.org', audience: 'conduit' },
    })
    try {
      const good = await rs256Token(privateKey, { iss: 'https://id.example.org', aud: 'conduit' })
      const ok = await fetch(rs.url('/api/v1/user/me'), { headers: bearer(good) })
      expect(ok.status).toBe(200)
      expect((await readJson(ok)).principalId).toBe('ada')
      const otherAudience = await rs256Token(privateKey, { iss: 'https://id.example.org', aud: 'billing' })
      await expect401(
        await fetch(rs.url('/api/v1/user/me'), { headers: bearer(otherAudience) }),
        /issuer or audience/,
      )
    } finally {
      await rs.stop()
    }
  })

  it('a custom hook sets the principal, rejects with 401 or throws its own 403', async () => {
    const custom = await startTestGateway({
      auth: (request) => {
        const key = request.headers.get('x-api-key')
        if (key === 'banned') throw new HandledError(403, 'This key is suspended')
        return key === 'k-1' ? { principalId: 'service-account', tenantId: 't-9' } : undefined
      },
    })
    try {
      const ok = await fetch(custom.url('/api/v1/user/me'), { headers: { 'x-api-key': 'k-1' } })
      expect(await readJson(ok)).toEqual({ principalId: 'service-account', tenantId: 't-9' })
      expect((await fetch(custom.url('/api/v1/user/me'), { headers: { 'x-api-key': 'nope' } })).status).toBe(
        401,
      )
      const banned = await fetch(custom.url('/api/v1/user/me'), { headers: { 'x-api-key': 'banned' } })
      expect(banned.status).toBe(403)
      expect((await readJson(banned)).message).toBe('This key is suspended')
    } finally {
      await custom.stop()
    }
  })

  it('refuses to build a gateway with protected endpoints and no auth', () => {
    expect(() => createGateway({ services: [userV1], bridge: new MemoryBridge() })).toThrow(
      /no auth is configured/,
    )
  })

  it('publicByDefault opens endpoints not marked public', async () => {
    const open = await startTestGateway({ auth: undefined, publicByDefault: true })
    try {
      const response = await fetch(open.url('/api/v1/user/me'))
      expect(await readJson(response)).toEqual({})
    } finally {
      await open.stop()
    }
  })
})
