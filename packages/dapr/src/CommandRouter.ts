import type { CommandReceiver, Envelope } from '@conduit/core'

/** What a command route answers the sidecar with (Dapr passes it back to the caller unchanged). */
export interface CommandAnswer {
  status: number
  body: Uint8Array | string
  contentType: string
}

/** Marks a 404 that comes from a Conduit app (no handler for the command) in the response. */
export const NO_HANDLER_HEADER = 'conduit-no-handler'

interface Route {
  receivers: CommandReceiver[]
  next: number
}

/**
 * The command routes this process serves, by command key. Several instances of a service in
 * one process share a route round-robin; Dapr picks the process (the app instance).
 */
export class CommandRouter {
  private readonly routes = new Map<string, Route>()

  constructor(private readonly encodeReply: (response: Envelope) => Uint8Array) {}

  add(key: string, receiver: CommandReceiver): () => void {
    let route = this.routes.get(key)
    if (!route) {
      route = { receivers: [], next: 0 }
      this.routes.set(key, route)
    }
    route.receivers.push(receiver)
    const joined = route
    return () => {
      joined.receivers = joined.receivers.filter((candidate) => candidate !== receiver)
      if (joined.receivers.length === 0 && this.routes.get(key) === joined) this.routes.delete(key)
    }
  }

  has(key: string): boolean {
    return this.routes.has(key)
  }

  /**
   * Runs one invocation. The engine replies through `reply` (possibly twice, when the first
   * response was too large to encode); a command it drops as malformed gets a 400.
   */
  async handle(key: string, body: Uint8Array): Promise<CommandAnswer> {
    const route = this.routes.get(key)
    const receiver = route?.receivers[route.next++ % route.receivers.length]
    if (!receiver) {
      return {
        status: 404,
        contentType: 'application/json',
        body: JSON.stringify({
          errorCode: 'CONDUIT_NO_HANDLER',
          message: `No handler for ${key} in this app`,
        }),
      }
    }
    let answer: CommandAnswer | undefined
    await receiver(body, async (response) => {
      answer = { status: 200, contentType: 'application/json', body: this.encodeReply(response) }
    })
    return (
      answer ?? {
        status: 400,
        contentType: 'application/json',
        body: JSON.stringify({
          errorCode: 'CONDUIT_MALFORMED_COMMAND',
          message: 'The request is not a Conduit command envelope; the reason is in the app log',
        }),
      }
    )
  }
}
