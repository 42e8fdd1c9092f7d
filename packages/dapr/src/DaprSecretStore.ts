import { ConduitError, type SecretStore } from '@conduit/core'
import type { DaprClient } from '@dapr/dapr'
import type { DaprSidecarOptions } from './DaprStateStore.js'
import { resolveDaprOptions } from './options.js'

export const DAPR_SECRET_STORE_NAME = 'dapr'

export interface DaprSecretStoreOptions extends DaprSidecarOptions {
  /** the secret store component (`metadata.name` in its YAML); default `secretstore` */
  storeName?: string
}

export interface DaprSecretStore extends SecretStore {
  close(): Promise<void>
}

/**
 * A core SecretStore over the sidecar's secrets API, through @dapr/dapr's DaprClient (HTTP). The
 * SDK is imported on the first read: a process that never reads a secret does not load it.
 */
export function daprSecretStore(options: DaprSecretStoreOptions = {}): DaprSecretStore {
  const resolved = resolveDaprOptions(options)
  const url = new URL(resolved.daprBaseUrl)
  const storeName = options.storeName ?? 'secretstore'
  let client: Promise<DaprClient> | undefined

  function connect(): Promise<DaprClient> {
    client ??= import('@dapr/dapr').then(
      ({ DaprClient, CommunicationProtocolEnum, LogLevel }) =>
        new DaprClient({
          daprHost: url.hostname.replace(/^\[|\]$/g, ''),
          daprPort: url.port || '80',
          communicationProtocol: CommunicationProtocolEnum.HTTP,
          logger: { level: LogLevel.Error },
          ...(resolved.daprApiToken ? { daprApiToken: resolved.daprApiToken } : {}),
        }),
      (error: unknown) => {
        client = undefined
        throw new ConduitError(
          500,
          'DAPR_SDK_MISSING',
          `daprSecretStore needs @dapr/dapr (pnpm add @dapr/dapr): ${(error as Error).message}`,
          false,
        )
      },
    )
    return client
  }

  return {
    name: DAPR_SECRET_STORE_NAME,

    async get(key) {
      let secret: unknown
      try {
        secret = await (await connect()).secret.get(storeName, encodeURIComponent(key))
      } catch (error) {
        if (error instanceof ConduitError) throw error
        throw new ConduitError(
          503,
          'DAPR_SECRET_FAILED',
          `Dapr secret store ${storeName}: reading ${key} failed`,
          true,
        )
      }
      // 204 (not found) comes back as an empty body; a store with one value per name answers
      // { [name]: value }, a multi-value store (Kubernetes) { [field]: value, ... }.
      if (typeof secret !== 'object' || secret === null) return undefined
      const values = secret as Record<string, unknown>
      const value =
        key in values ? values[key] : Object.keys(values).length === 1 ? Object.values(values)[0] : undefined
      return typeof value === 'string' ? value : undefined
    },

    async close() {
      if (client) await (await client).stop()
    },
  }
}
