import { webcrypto } from 'node:crypto'
import { HandledError } from '@conduit/core'
import { verify } from 'hono/jwt'
import { requestErrors } from './errorResponses.js'
import type { GatewayRoute } from './routes.js'

/** Who calls: copied to the envelope's `principalId` and `tenantId`. */
export interface Principal {
  principalId: string
  tenantId?: string | undefined
}

/**
 * Authenticates a request to a protected endpoint. Return the principal, or `undefined` to
 * answer 401; throw a HandledError (401 or 403) to answer with your own message.
 */
export type AuthHook = (
  request: Request,
  route: GatewayRoute | undefined,
) => Principal | undefined | Promise<Principal | undefined>

export interface JwtAuthOptions {
  /** HS256 shared secret, at least 32 bytes (RFC 7518 §3.2) */
  secret?: string
  /** RS256 public key: PEM (`-----BEGIN PUBLIC KEY-----`) or a JWK */
  publicKey?: string | webcrypto.JsonWebKey
  /** default: HS256 with `secret`, RS256 with `publicKey`; tokens signed otherwise are refused */
  algorithm?: 'HS256' | 'RS256'
  issuer?: string
  audience?: string | string[]
  /** claim holding the principal id; default `sub` */
  principalClaim?: string
  /** claim holding the tenant id; default `tenantId` */
  tenantClaim?: string
  /** refuse tokens without `exp`; default true */
  requireExpiry?: boolean
}

/**
 * The default auth hook: `Authorization: Bearer <JWT>` verified with Hono's JWT helpers
 * (signature, algorithm, `exp`, `nbf`, `iat`, and `iss`/`aud` when configured).
 */
export function bearerJwtAuth(options: JwtAuthOptions): AuthHook {
  const algorithm = options.algorithm ?? (options.publicKey !== undefined ? 'RS256' : 'HS256')
  const key = algorithm === 'HS256' ? options.secret : options.publicKey
  if (key === undefined) {
    throw new TypeError(
      `bearerJwtAuth: ${algorithm} needs ${algorithm === 'HS256' ? 'a secret' : 'a publicKey'}`,
    )
  }
  if (typeof key === 'string' && algorithm === 'HS256' && Buffer.byteLength(key) < 32) {
    throw new TypeError('bearerJwtAuth: an HS256 secret must be at least 32 bytes')
  }
  const principalClaim = options.principalClaim ?? 'sub'
  const tenantClaim = options.tenantClaim ?? 'tenantId'
  const requireExpiry = options.requireExpiry ?? true
  // Importing the key costs more than verifying a signature: do it once.
  let cryptoKey: Promise<webcrypto.CryptoKey> | undefined
  const verifyOptions = {
    alg: algorithm,
    ...(options.issuer === undefined ? {} : { iss: options.issuer }),
    ...(options.audience === undefined ? {} : { aud: options.audience }),
  }

  return async (request) => {
    const header = request.headers.get('authorization')
    if (header === null) throw requestErrors.unauthorized('Missing bearer token')
    const match = /^Bearer\s+(\S+)$/i.exec(header)
    if (!match) throw requestErrors.unauthorized('Expected an Authorization: Bearer <token> header')
    cryptoKey ??= importVerificationKey(key, algorithm)
    let claims: Record<string, unknown>
    try {
      claims = (await verify(match[1]!, (await cryptoKey) as never, verifyOptions)) as Record<string, unknown>
    } catch (error) {
      throw requestErrors.unauthorized(describeJwtFailure(error))
    }
    if (requireExpiry && typeof claims.exp !== 'number')
      throw requestErrors.unauthorized('Token has no expiry (exp)')
    const principalId = claims[principalClaim]
    if (typeof principalId !== 'string' || principalId === '') {
      throw requestErrors.unauthorized(`Token has no "${principalClaim}" claim`)
    }
    const tenantId = claims[tenantClaim]
    if (tenantId !== undefined && typeof tenantId !== 'string') {
      throw new HandledError(403, `Token claim "${tenantClaim}" must be a string`, undefined, 'FORBIDDEN')
    }
    return { principalId, tenantId }
  }
}

async function importVerificationKey(
  key: string | webcrypto.JsonWebKey,
  algorithm: 'HS256' | 'RS256',
): Promise<webcrypto.CryptoKey> {
  const { subtle } = webcrypto
  const parameters =
    algorithm === 'HS256' ? { name: 'HMAC', hash: 'SHA-256' } : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }
  if (typeof key !== 'string') return subtle.importKey('jwk', key, parameters, false, ['verify'])
  if (algorithm === 'HS256')
    return subtle.importKey('raw', new TextEncoder().encode(key), parameters, false, ['verify'])
  const der = Buffer.from(key.replace(/-+(BEGIN|END)[^-]*-+/g, '').replace(/\s/g, ''), 'base64')
  return subtle.importKey('spki', der, parameters, false, ['verify'])
}

// Hono names its JWT errors by class; the reason helps the client without revealing the key.
function describeJwtFailure(error: unknown): string {
  const name = error instanceof Error ? error.name : ''
  if (name === 'JwtTokenExpired') return 'Token expired'
  if (name === 'JwtTokenNotBefore') return 'Token not yet valid'
  if (name === 'JwtTokenSignatureMismatched') return 'Token signature is invalid'
  if (name === 'JwtAlgorithmMismatch') return 'Token algorithm is not accepted'
  if (name === 'JwtTokenIssuer' || name === 'JwtTokenAudience' || name === 'JwtPayloadRequiresAud') {
    return 'Token issuer or audience is not accepted'
  }
  return 'Token is invalid'
}
