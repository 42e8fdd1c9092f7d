import type { MessageHandler, MqttConnection } from './MqttConnection.js'

interface Route<R> {
  receivers: R[]
  next: number
  subscribed: Promise<unknown>
}

/**
 * Receivers that share one subscription of one connection. MQTT merges identical filters of a
 * connection into one subscription, so two listeners of the same command or group in one
 * bridge (two service instances in one process) take turns here; everyInstance listeners of
 * the same filter all get each message.
 */
export class LocalRoutes<R> {
  private readonly routes = new Map<string, Route<R>>()

  constructor(private readonly connection: () => MqttConnection) {}

  /** Adds a receiver; the first one of a filter subscribes. Returns the remover. */
  async add(
    filter: string,
    qos: 0 | 1,
    receiver: R,
    dispatch: (receivers: (fanOut: boolean) => R[]) => MessageHandler,
  ): Promise<() => Promise<void>> {
    let route = this.routes.get(filter)
    if (!route) {
      const created: Route<R> = { receivers: [], next: 0, subscribed: Promise.resolve() }
      const pick = (fanOut: boolean): R[] => {
        if (fanOut) return created.receivers
        const chosen = created.receivers[created.next++ % created.receivers.length]
        return chosen === undefined ? [] : [chosen]
      }
      created.subscribed = this.connection().subscribe(filter, qos, dispatch(pick))
      this.routes.set(filter, created)
      route = created
    }
    route.receivers.push(receiver)
    try {
      await route.subscribed
    } catch (error) {
      this.routes.delete(filter)
      throw error
    }
    const joined = route
    return async () => {
      joined.receivers = joined.receivers.filter((candidate) => candidate !== receiver)
      if (joined.receivers.length === 0 && this.routes.get(filter) === joined) {
        this.routes.delete(filter)
        await this.connection().unsubscribe(filter)
      }
    }
  }
}
