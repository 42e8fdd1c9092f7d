import type { EventBridge, Logger } from '@conduit/core'
import { assertCapabilities, assertEventPattern, HandledError, isWildcardPattern } from '@conduit/core'
import type { Context, Hono } from 'hono'
import { streamSSE } from 'hono/streaming'
import type { Principal } from './auth.js'
import {
  clientEventFilter,
  EventStreamClient,
  EventStreamHub,
  type EventStreamOptions,
} from './eventStream.js'

export type { EventStreamOptions }

export interface EventStreamMount {
  bridge: EventBridge
  logger: Logger
  path: string
  isPublic: boolean
  options: EventStreamOptions
  authenticate: (c: Context, route: undefined) => Promise<Principal | undefined>
}

/**
 * `GET <path>?event=<pattern>`: a Server-Sent Events stream of the bridge events matching the
 * gateway's pattern, the client's narrower pattern and the authorization rule.
 */
export function mountEventStream(app: Hono<any>, mount: EventStreamMount): EventStreamHub {
  const { options } = mount
  assertEventPattern(options.eventPattern)
  // Refuse at creation, like ServiceInstance.start() does for subscriptions, rather than at the first client.
  assertCapabilities(
    mount.bridge.name,
    mount.bridge.capabilities,
    `http gateway event stream ${mount.path}`,
    ['everyInstance', ...(isWildcardPattern(options.eventPattern) ? (['wildcards'] as const) : [])],
  )
  const hub = new EventStreamHub(mount.bridge, options, mount.logger)
  const heartbeatMs = options.heartbeatMs ?? 15_000
  const maxQueued = options.maxQueuedPerClient ?? 1_000

  app.get(mount.path, async (c) => {
    const principal = mount.isPublic ? undefined : await mount.authenticate(c, undefined)
    const pattern = c.req.query('event')
    if (pattern !== undefined) {
      try {
        assertEventPattern(pattern)
      } catch (error) {
        throw new HandledError(400, (error as Error).message, undefined, 'INVALID_EVENT_PATTERN')
      }
    }
    const client = new EventStreamClient(clientEventFilter(pattern, principal, options.authorize), maxQueued)
    // Subscribe before answering: once the client sees the response, no event is missed.
    await hub.attach(client)
    c.header('cache-control', 'no-cache')
    c.header('x-accel-buffering', 'no')
    return streamSSE(
      c,
      async (stream) => {
        client.attachStream(stream)
        await stream.write(': connected\n\n')
        const heartbeat = setInterval(() => client.heartbeat(), heartbeatMs)
        try {
          await client.ended
        } finally {
          clearInterval(heartbeat)
          hub.detach(client)
        }
      },
      async (error) => {
        mount.logger.warn({ err: error }, 'event stream failed')
        client.close()
      },
    )
  })
  return hub
}
