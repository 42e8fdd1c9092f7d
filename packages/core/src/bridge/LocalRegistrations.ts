import type { Logger } from '../observability/logging.js'
import type { TransportListener } from '../transport/port.js'
import type { LocalCommandHandler, LocalEventHandler, LocalRoute as Route } from './LocalRoute.js'
import { LocalRoute } from './LocalRoute.js'
import type { Registration } from './options.js'

type Handler = LocalCommandHandler | LocalEventHandler

interface TrackedRegistration extends Registration {
  /** close, draining until `deadline` (epoch ms) at most */
  closeBy(deadline: number): Promise<void>
}

/**
 * The registrations of one bridge instance, grouped into routes: one transport listener per
 * command address or consumer group, shared by every local registration of it. Closing is the
 * one drain: the last registration of a route pauses its listener, waits (bounded) for its
 * handlers in flight, then closes the listener.
 */
export class LocalRegistrations {
  private readonly tracked = new Set<TrackedRegistration>()
  private readonly routes = new Map<string, Route<Handler>>()

  constructor(
    private readonly logger: Logger,
    private readonly drainTimeout: number,
    private readonly reportFailure: (action: string, error: unknown) => void,
  ) {}

  /** Adds `handler` to the route `key`, opening the route's transport listener if it is the first. */
  async join<H extends Handler>(
    key: string,
    handler: H,
    listen: (route: Route<H>) => Promise<TransportListener>,
  ): Promise<Registration> {
    let route = this.routes.get(key) as Route<H> | undefined
    if (route === undefined) {
      const created = new LocalRoute<H>()
      route = created
      this.routes.set(key, created as Route<Handler>)
      created.opening = listen(created).then((listener) => {
        created.listener = listener
      })
      created.opening.catch(() => {
        if (this.routes.get(key) === (created as Route<Handler>)) this.routes.delete(key)
      })
    }
    await route.opening
    route.add(handler)
    return this.track(key, route as Route<Handler>, handler)
  }

  /** Closes every registration, all draining against one deadline. */
  async closeAll(deadline: number): Promise<void> {
    await Promise.allSettled([...this.tracked].map((registration) => registration.closeBy(deadline)))
  }

  private track(key: string, route: Route<Handler>, handler: Handler): Registration {
    let closing: Promise<void> | undefined
    const registration: TrackedRegistration = {
      close: () => registration.closeBy(Date.now() + this.drainTimeout),
      closeBy: (deadline) => {
        closing ??= (async () => {
          this.tracked.delete(registration)
          route.remove(handler)
          const last = route.isEmpty
          if (last && this.routes.get(key) === route) this.routes.delete(key)
          if (last) await this.settle('pause a listener', route.listener?.pause())
          if (!(await handler.inFlight.waitForDrain(Math.max(0, deadline - Date.now())))) {
            this.logger.warn(
              { inFlight: handler.inFlight.size, route: key },
              'handlers still running after the drain timeout',
            )
          }
          if (last) await this.settle('close a listener', route.listener?.close())
        })()
        return closing
      },
    }
    this.tracked.add(registration)
    return registration
  }

  private async settle(action: string, step: Promise<void> | undefined): Promise<void> {
    try {
      await step
    } catch (error) {
      this.reportFailure(action, error)
    }
  }
}
