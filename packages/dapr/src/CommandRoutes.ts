import { ConduitError } from '@conduit/core'
import type { CommandReceiver, TransportListener } from '@conduit/core/transport'
import { AppListener } from './AppListener.js'

/**
 * Writes the HTTP answer to one invocation; resolves once it is written, rejects when it cannot be
 * (the sidecar's connection closed first, or it was already answered).
 */
export type Respond = (status: number, body: Uint8Array | string) => Promise<void>

/** The error bodies the app port answers with, in Dapr's `{errorCode, message}` shape. */
export const APP_ERRORS = {
  noHandler: 'CONDUIT_NO_HANDLER',
  stopping: 'CONDUIT_STOPPING',
  unreadable: 'CONDUIT_MALFORMED_COMMAND',
  noReply: 'CONDUIT_NO_REPLY',
} as const

function errorBody(errorCode: string, message: string): string {
  return JSON.stringify({ errorCode, message })
}

/**
 * The commands this process serves, one engine listener per command key. Dapr's name resolution
 * picks the process; the engine picks the local registration. The reply is the HTTP response:
 * there is no reply address on the wire.
 */
export class CommandRoutes {
  private readonly routes = new Map<string, AppListener<CommandReceiver>>()

  add(key: string, receive: CommandReceiver): TransportListener {
    if (this.routes.has(key)) {
      throw new ConduitError(500, 'DAPR_ROUTE_TAKEN', `${key} already has a listener on this bridge`, false)
    }
    const listener: AppListener<CommandReceiver> = new AppListener(receive, () => {
      if (this.routes.get(key) === listener) this.routes.delete(key)
    })
    this.routes.set(key, listener)
    return listener
  }

  /**
   * Runs one invocation. The engine's reply is written as the 200 answer; when it gave none, the
   * outcome says why. Rejects only when an answer written here could not be (the caller reports it).
   */
  async serve(key: string, body: Uint8Array, respond: Respond): Promise<void> {
    const listener = this.routes.get(key)
    if (!listener) return respond(404, errorBody(APP_ERRORS.noHandler, `No handler for ${key} in this app`))
    if (listener.paused) {
      return respond(503, errorBody(APP_ERRORS.stopping, `${key} is stopping in this app; it was not run`))
    }
    let replied = false
    const outcome = await listener.receive(body, (response) => {
      replied = true
      return respond(200, response.bytes) // a failure here is the engine's to report
    })
    if (replied) return
    if (outcome.action === 'dead-letter') {
      // Invocations have no dead-letter place: the caller learns it failed, the app log says why.
      return respond(
        400,
        errorBody(
          APP_ERRORS.unreadable,
          'The request is not a Conduit command envelope; the reason is in the app log',
        ),
      )
    }
    if (outcome.action === 'retry') {
      return respond(503, errorBody(APP_ERRORS.stopping, `${key} cannot run in this app now; it was not run`))
    }
    return respond(
      500,
      errorBody(APP_ERRORS.noReply, 'The command was handled but its reply could not be sent'),
    )
  }
}
