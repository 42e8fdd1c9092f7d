import { DefaultEventBridge, type EventBridge, type ServiceInstance, type StateStore } from '@conduit/core'
import { createGateway, type ServedGateway, serveGateway } from '@conduit/http'
import { emailV1 } from './email/definition.js'
import { emailV1Service } from './email/service.js'
import { userV1 } from './user/definition.js'
import { userV1Service } from './user/service.js'

export interface Monolith {
  readonly eventBridge: EventBridge
  readonly userService: ServiceInstance
  readonly emailService: ServiceInstance
  /** Stops both services (each waits for its handlers in flight), then the bridge. */
  stop(): Promise<void>
}

/**
 * The wiring of the monolith: both services in one process on the in-memory bridge, exactly
 * as in DESIGN.md's running example. main.ts and the tests start the app through this.
 */
export interface MonolithOptions {
  /** where users live (Redis, PostgreSQL, ...); default: the instance's in-memory store. Closed by stop(). */
  readonly userState?: StateStore
}

export async function startMonolith(options: MonolithOptions = {}): Promise<Monolith> {
  // The one line that picks the transport: new NatsBridge({ servers }), new AmqpBridge(), new MqttBridge({ url }).
  const eventBridge = new DefaultEventBridge()
  await eventBridge.start()
  try {
    // Stores are one line too: getInstance(bridge, { stores: { state: redisStateStore(...) } }).
    const userService = await userV1Service.getInstance(
      eventBridge,
      options.userState ? { stores: { state: options.userState } } : {},
    )
    await userService.start()
    const emailService = await emailV1Service.getInstance(eventBridge)
    await emailService.start()

    let stopping: Promise<void> | undefined
    const stop = () => {
      stopping ??= (async () => {
        await userService.stop()
        await emailService.stop()
        await eventBridge.stop()
        await options.userState?.close()
      })()
      return stopping
    }
    return { eventBridge, userService, emailService, stop }
  } catch (error) {
    await eventBridge.stop()
    await options.userState?.close()
    throw error
  }
}

/**
 * Serves the monolith's commands over HTTP: routes, OpenAPI document and docs page come from the
 * definitions alone (`/api/v1/user/users`, `/openapi.json`, `/docs`).
 */
export async function serveMonolithOverHttp(monolith: Monolith, port = 3000): Promise<ServedGateway> {
  const app = createGateway({ services: [userV1, emailV1], bridge: monolith.eventBridge })
  return serveGateway(app, { port })
}
