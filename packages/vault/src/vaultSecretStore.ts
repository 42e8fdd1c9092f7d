import type { SecretStore } from '@conduit/core'

export interface VaultSecretStoreOptions {
  /** Vault's address; default `VAULT_ADDR`, then `http://127.0.0.1:8200` */
  readonly address?: string
  /** a token with read on the secret; default `VAULT_TOKEN` */
  readonly token?: string
  /** where the KV version 2 engine is mounted; default `secret` */
  readonly mount?: string
  /** the secret (a path under the mount) whose fields are this store's keys, e.g. `my-app/prod` */
  readonly path: string
  /** Vault Enterprise / HCP namespace (`X-Vault-Namespace`) */
  readonly namespace?: string
  /**
   * How long one read of the secret serves `get` calls; default 60 s. A handler then costs no
   * round trip per secret, and a rotated value is seen within this time.
   */
  readonly cacheTtlMs?: number
  /** bound on one HTTP request; default 5 s */
  readonly timeoutMs?: number
}

interface KvV2ReadResponse {
  data?: { data?: Record<string, unknown> | null }
}

const PATH = /^[A-Za-z0-9_.@-]+(\/[A-Za-z0-9_.@-]+)*$/

/**
 * A SecretStore on one secret of Vault's KV version 2 engine: `get('db_password')` returns the
 * field `db_password` of the secret at `<mount>/<path>` (read with
 * `GET /v1/<mount>/data/<path>`). Non-string fields are returned as JSON text.
 */
export function vaultSecretStore(options: VaultSecretStoreOptions): SecretStore {
  const address = (options.address ?? process.env.VAULT_ADDR ?? 'http://127.0.0.1:8200').replace(/\/+$/, '')
  const token = options.token ?? process.env.VAULT_TOKEN
  const mount = options.mount ?? 'secret'
  for (const [name, value] of [
    ['mount', mount],
    ['path', options.path],
  ] as const) {
    if (!PATH.test(value) || value.split('/').some((part) => part === '..' || part === '.')) {
      throw new TypeError(`vault secret store: ${name} ${JSON.stringify(value)} is not a Vault path`)
    }
  }
  if (token === undefined || token === '') {
    throw new TypeError('vault secret store: no token (pass `token` or set VAULT_TOKEN)')
  }
  const url = `${address}/v1/${mount}/data/${options.path}`
  const cacheTtlMs = options.cacheTtlMs ?? 60_000
  const headers: Record<string, string> = { 'x-vault-token': token, accept: 'application/json' }
  if (options.namespace !== undefined) headers['x-vault-namespace'] = options.namespace
  let cached: { fields: Promise<Record<string, unknown>>; until: number } | undefined

  async function readSecret(): Promise<Record<string, unknown>> {
    let response: Response
    try {
      response = await fetch(url, { headers, signal: AbortSignal.timeout(options.timeoutMs ?? 5_000) })
    } catch (error) {
      throw new Error(`vault secret store: cannot reach Vault at ${address}: ${(error as Error).message}`, {
        cause: error,
      })
    }
    // 404: no such secret, or its current version is deleted; both mean "no fields"
    if (response.status === 404) return {}
    if (!response.ok) {
      const body = await response.text().catch(() => '')
      throw new Error(
        `vault secret store: reading ${mount}/${options.path} failed with ${response.status}${vaultErrors(body)}`,
      )
    }
    const body = (await response.json()) as KvV2ReadResponse
    return body.data?.data ?? {}
  }

  return {
    name: 'vault',
    async get(key) {
      if (cached === undefined || cached.until <= Date.now()) {
        const fields = readSecret()
        cached = { fields, until: Date.now() + cacheTtlMs }
        // a failed read is not cached: the next get tries again
        fields.catch(() => {
          if (cached?.fields === fields) cached = undefined
        })
      }
      const value = (await cached.fields)[key]
      if (value === undefined || value === null) return undefined
      return typeof value === 'string' ? value : JSON.stringify(value)
    },
  }
}

/** Vault answers errors as `{ "errors": ["permission denied"] }`. */
function vaultErrors(body: string): string {
  try {
    const errors = (JSON.parse(body) as { errors?: unknown }).errors
    return Array.isArray(errors) && errors.length > 0 ? `: ${errors.join('; ')}` : ''
  } catch {
    return ''
  }
}
