import type { AnyEventDefinition, EventBridge, ServiceDefinition } from '@conduit/core'
import type { Hono } from 'hono'

export const ASYNCAPI_PATH = '/asyncapi.json'

export interface GatewayAsyncApiOptions {
  title?: string
  version?: string
  description?: string
  /** events to document besides those the services emit or subscribe to */
  events?: readonly AnyEventDefinition[]
}

/**
 * Serves the AsyncAPI 3.0 document of the services on the gateway's bridge (its real subjects,
 * queues or topics). Like /openapi.json, @conduit/asyncapi is loaded and the document generated
 * on the first request, then kept; a failure answers 500 and the next request tries again.
 */
export function mountAsyncApi(
  app: Hono<any>,
  services: readonly ServiceDefinition<any>[],
  bridge: EventBridge,
  options: GatewayAsyncApiOptions,
): void {
  let document: Promise<string> | undefined
  app.get(ASYNCAPI_PATH, async (c) => {
    document ??= import('@conduit/asyncapi').then(({ generateAsyncApi }) =>
      JSON.stringify(
        generateAsyncApi({
          services,
          bridge,
          ...(options.events === undefined ? {} : { events: options.events }),
          info: {
            ...(options.title === undefined ? {} : { title: options.title }),
            ...(options.version === undefined ? {} : { version: options.version }),
            ...(options.description === undefined ? {} : { description: options.description }),
          },
        }),
      ),
    )
    let body: string
    try {
      body = await document
    } catch (error) {
      document = undefined // answered as a 500 (and logged) now; the next request tries again
      throw error
    }
    c.header('content-type', 'application/json; charset=utf-8')
    return c.body(body)
  })
}
