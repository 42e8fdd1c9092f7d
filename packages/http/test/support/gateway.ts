import { generateKeyPairSync } from 'node:crypto'
import { MemoryBridge } from '@conduit/core'
import { sign } from 'hono/jwt'
import { createGateway, type GatewayOptions, type ServedGateway, serveGateway } from '../../src/index.js'
import { billingV1, createUserService, userV1 } from './services.js'

export const JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256!'

export interface TestGateway {
  bridge: MemoryBridge
  served: ServedGateway
  url: (path: string) => string
  stop(): Promise<void>
}

/** The fixture services on a MemoryBridge (the one given, else a new one) behind a gateway on 127.0.0.1, random port. */
export async function startTestGateway(
  overrides: Partial<Omit<GatewayOptions, 'bridge'>> & { bridge?: MemoryBridge } = {},
): Promise<TestGateway> {
  const bridge = overrides.bridge ?? new MemoryBridge()
  await bridge.start()
  const userService = await createUserService().getInstance(bridge)
  await userService.start()
  const app = createGateway({
    services: [userV1, billingV1],
    bridge,
    auth: { secret: JWT_SECRET },
    sse: { eventPattern: 'user.#', heartbeatMs: 200 },
    openapi: { title: 'Conduit test API', version: '1.0.0' },
    ...overrides,
  })
  const served = await serveGateway(app, { port: 0, hostname: '127.0.0.1', closeTimeoutMs: 200 })
  return {
    bridge,
    served,
    url: (path) => `${served.url}${path}`,
    async stop() {
      await served.close()
      await bridge.stop()
    },
  }
}

const now = () => Math.floor(Date.now() / 1000)

export function hs256Token(claims: Record<string, unknown> = {}, secret = JWT_SECRET): Promise<string> {
  return sign({ sub: 'ada', exp: now() + 300, ...claims }, secret, 'HS256')
}

export function expiredToken(): Promise<string> {
  return hs256Token({ exp: now() - 60, iat: now() - 120 })
}

export function rsaKeys(): { publicKey: string; privateKey: string } {
  return generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  })
}

export function rs256Token(privateKey: string, claims: Record<string, unknown> = {}): Promise<string> {
  return sign({ sub: 'ada', exp: now() + 300, ...claims }, privateKey, 'RS256')
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
