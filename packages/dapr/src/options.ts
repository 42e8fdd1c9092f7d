import type { EventBridgeOptions } from '@conduit/core'

export const DAPR_BRIDGE_NAME = 'dapr'

/** Dapr's default limit on a request body (`--max-body-size`, 4 MiB). */
export const DAPR_DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024

/** Maps a service name and version to the Dapr app id that serves it. */
export type AppIdMapping = (service: string, version: string) => string

/** `user` v`1` → `user-v1`: one Dapr app per service version. */
export const defaultAppIdOf: AppIdMapping = (service, version) => `${service}-v${version}`

export interface DaprTransportOptions {
  /** host of this process's Dapr sidecar; default `127.0.0.1` */
  daprHost?: string
  /** HTTP port of the sidecar; default `DAPR_HTTP_PORT` or 3500 */
  daprHttpPort?: number
  /** `DAPR_API_TOKEN`, sent as `dapr-api-token` when set */
  daprApiToken?: string
  /** where this process serves its routes to the sidecar (`dapr run --app-port`); default `APP_PORT` or 3000 */
  appPort?: number
  /** interface the app server binds to; default `127.0.0.1` (use `0.0.0.0` in a container) */
  appHost?: string
  /** app id of this process's sidecar (`dapr run --app-id`); default `APP_ID`, else the app id of the first service served */
  appId?: string
  /** the pub/sub component every event goes through; default `pubsub` */
  pubsubName?: string
  /** service name/version → app id of the target of an invocation; default `${service}-v${version}` */
  appIdOf?: AppIdMapping
  /** put in front of every topic (test isolation, several environments on one broker); default '' */
  topicPrefix?: string
  /**
   * Dapr reads `GET /dapr/subscribe` once per sidecar start. The bridge answers it once no
   * service has registered anything for this long (services started right after `start()`
   * are all included); default 500 ms
   */
  subscribeSettleMs?: number
  /** largest encoded envelope or CloudEvent sent; default 4 MiB (Dapr's default body limit) */
  maxPayloadBytes?: number
  /** how long start() waits for the sidecar's outbound health endpoint; default 10 s */
  sidecarWaitMs?: number
}

export interface DaprBridgeOptions extends EventBridgeOptions, DaprTransportOptions {}

export interface ResolvedDaprOptions {
  daprBaseUrl: string
  daprApiToken: string | undefined
  appPort: number
  appHost: string
  appId: string | undefined
  pubsubName: string
  appIdOf: AppIdMapping
  topicPrefix: string
  subscribeSettleMs: number
  maxPayloadBytes: number
  sidecarWaitMs: number
}

function portFrom(value: string | undefined, fallback: number): number {
  const port = Number(value)
  return Number.isInteger(port) && port >= 0 && port < 65536 && value !== '' ? port : fallback
}

export function resolveDaprOptions(
  options: DaprTransportOptions = {},
  env: Record<string, string | undefined> = process.env,
): ResolvedDaprOptions {
  const daprHost = options.daprHost ?? env.DAPR_HOST ?? '127.0.0.1'
  const daprHttpPort = options.daprHttpPort ?? portFrom(env.DAPR_HTTP_PORT, 3500)
  return {
    daprBaseUrl: `http://${daprHost.includes(':') ? `[${daprHost}]` : daprHost}:${daprHttpPort}`,
    daprApiToken: options.daprApiToken ?? env.DAPR_API_TOKEN,
    appPort: options.appPort ?? portFrom(env.APP_PORT, 3000),
    appHost: options.appHost ?? '127.0.0.1',
    appId: options.appId ?? (env.APP_ID || undefined),
    pubsubName: options.pubsubName ?? 'pubsub',
    appIdOf: options.appIdOf ?? defaultAppIdOf,
    topicPrefix: options.topicPrefix ?? '',
    subscribeSettleMs: options.subscribeSettleMs ?? 500,
    maxPayloadBytes: options.maxPayloadBytes ?? DAPR_DEFAULT_MAX_BODY_BYTES,
    sidecarWaitMs: options.sidecarWaitMs ?? 10_000,
  }
}
