import { ConduitError } from '@conduit/core'
import { createClient, ErrorReply } from '@redis/client'
import { DEFAULT_REDIS_URL, type RedisStoreOptions } from './options.js'

/**
 * What the store uses of a node-redis client: raw commands and MULTI. Structural, so a client of
 * another copy or major (v5, v6) of node-redis fits too; the store sends only commands it spells
 * out itself, so RESP2 and RESP3 clients both work.
 */
export interface RedisCommandClient {
  readonly isReady: boolean
  readonly options?: { readonly keyPrefix?: unknown } | undefined
  sendCommand(args: string[]): Promise<unknown>
  multi(): RedisTransaction
}

export interface RedisTransaction {
  addCommand(args: string[]): unknown
  exec(): Promise<unknown[]>
}

type OwnClient = ReturnType<typeof createClient>

export interface RedisConnection {
  /** the given client, or the store's own, opened on first use */
  client(): RedisCommandClient
  /** Runs `command`; a failure while the client is not connected says so (503, retryable). */
  run<T>(command: (client: RedisCommandClient) => Promise<T>): Promise<T>
  /** closes the store's own client; never a given one */
  close(): Promise<void>
}

export function redisConnection(options: RedisStoreOptions): RedisConnection {
  const given = options.client
  const url = options.url ?? DEFAULT_REDIS_URL
  let own: OwnClient | undefined
  let closed = false
  let lastConnectionError: Error | undefined

  function open(): OwnClient {
    const client = createClient({ ...options.clientOptions, url })
    // node-redis reconnects by itself; an 'error' event without a listener would end the process
    client.on('error', (error: Error) => {
      lastConnectionError = error
    })
    client.on('ready', () => {
      lastConnectionError = undefined
    })
    // Connecting goes on in the background (and again after a drop); commands wait for it, each
    // for at most the client's command timeout (5 s by default in node-redis 6).
    client.connect().catch(() => undefined)
    return client
  }

  function client(): RedisCommandClient {
    if (closed) throw new ConduitError(503, 'STORE_UNAVAILABLE', 'redis store: the store is closed', false)
    if (given) return given
    own ??= open()
    return own as unknown as RedisCommandClient
  }

  function unavailable(error: unknown): ConduitError {
    const reason = error instanceof Error ? error.message : String(error)
    const where = given
      ? 'the given Redis client is not connected'
      : `Redis at ${redacted(url)} is not reachable`
    const why = lastConnectionError ? ` (${lastConnectionError.message})` : ''
    return new ConduitError(503, 'STORE_UNAVAILABLE', `redis store: ${where}${why}: ${reason}`, true, {
      cause: error,
    })
  }

  return {
    client,
    async run(command) {
      const target = client()
      try {
        return await command(target)
      } catch (error) {
        // a reply is the server speaking (WRONGTYPE, OOM, ...); anything else while the client
        // is not connected is the connection. A client may run commands sent while it was
        // connecting before it reports ready, so `isReady` alone would misfile a reply.
        throw error instanceof ErrorReply || target.isReady ? error : unavailable(error)
      }
    },
    async close() {
      closed = true
      const client = own
      own = undefined
      if (!client) return
      // a graceful close waits for replies; while (re)connecting there is nothing to wait for
      if (client.isReady) await client.close()
      else client.destroy()
    },
  }
}

/** The URL without credentials, for error messages. */
function redacted(url: string): string {
  try {
    const parsed = new URL(url)
    parsed.username = ''
    parsed.password = ''
    return parsed.toString()
  } catch {
    return 'the configured URL'
  }
}
