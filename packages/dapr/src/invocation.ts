import { BridgeUnavailableError, ConduitError, NoHandlerError, PayloadTooLargeError } from '@conduit/core'
import type { TransportHost } from '@conduit/core/transport'
import { APP_ERRORS } from './CommandRoutes.js'
import { DAPR_BRIDGE_NAME } from './options.js'
import {
  daprErrorOf,
  describeDaprError,
  type SidecarOutcome,
  type SidecarResponse,
  SidecarTimeout,
} from './SidecarClient.js'

/** One invocation handed to the sidecar, as the answer to it needs to know it. */
export interface Invocation {
  /** the command envelope's id: the engine's key for the call */
  readonly commandId: string
  readonly appId: string
  /** `<service>/<version>/<command>` */
  readonly command: string
  readonly size: number
  readonly maxPayloadBytes: number
}

// What Dapr says when name resolution found no instance of the app id (mDNS "couldn't find
// service", a DNS lookup that fails): nothing was sent to any app, so nothing listens.
const NOT_RESOLVED = /couldn't find service|no such host|failed to resolve/i

const UNKNOWN_OUTCOME = 'the outcome is unknown (the command may or may not have run)'

/** The error a non-200 answer to an invocation means for its caller. */
export function invocationError(response: SidecarResponse, call: Invocation): ConduitError {
  const { errorCode, message = '' } = daprErrorOf(response)
  const detail = describeDaprError(response)
  const target = `Dapr app ${call.appId}`
  if (response.status === 404)
    return new NoHandlerError(`${target} has no handler for ${call.command} (${detail})`)
  if (errorCode === 'ERR_DIRECT_INVOKE' && NOT_RESOLVED.test(message)) {
    return new NoHandlerError(
      `no instance of ${target} was found for ${call.command}; it was not sent (${detail})`,
    )
  }
  if (errorCode === APP_ERRORS.stopping) {
    return new BridgeUnavailableError(
      `${target} is stopping the instance Dapr picked; ${call.command} was not run`,
    )
  }
  if (response.status === 413)
    return new PayloadTooLargeError(call.size, call.maxPayloadBytes, DAPR_BRIDGE_NAME)
  if (response.status === 403) {
    return new ConduitError(
      403,
      'DAPR_FORBIDDEN',
      `Dapr refused the invocation of ${call.appId}: ${detail}`,
      false,
    )
  }
  // ERR_DIRECT_INVOKE after a connection was made, an app that failed mid-call, any other status:
  // the HTTP answer is the only reply this call can get, so it fails now instead of at its deadline.
  return new BridgeUnavailableError(
    `Dapr could not complete the invocation of ${call.command} on ${call.appId} (${detail}); ${UNKNOWN_OUTCOME}`,
  )
}

/**
 * Hands what came back for an invocation to the engine: the reply, or the call's failure. Never
 * throws (it runs after sendCommand resolved, where nobody could catch it).
 */
export function settleInvocation(host: TransportHost, call: Invocation, outcome: SidecarOutcome): void {
  try {
    if ('error' in outcome) {
      // At the deadline the engine answers with its own TimeoutError; the request was only cut.
      if (outcome.error instanceof SidecarTimeout) return
      const reason = outcome.error instanceof Error ? outcome.error.message : String(outcome.error)
      host.failCall(
        call.commandId,
        new BridgeUnavailableError(
          `the connection to the Dapr sidecar failed while ${call.command} was in flight (${reason}); ${UNKNOWN_OUTCOME}`,
        ),
      )
      return
    }
    const { response } = outcome
    if (response.status !== 200) {
      host.failCall(call.commandId, invocationError(response, call))
      return
    }
    // The HTTP answer is the only reply: when the engine could not match it (not an envelope, or
    // another call's), the call fails now instead of at its deadline.
    if (host.receiveReply(response.body)) return
    host.failCall(
      call.commandId,
      new BridgeUnavailableError(
        `${call.appId} answered ${call.command} with something that is not its reply; ${UNKNOWN_OUTCOME}`,
      ),
    )
  } catch (error) {
    host.reportFailure('settle an invocation', error, { command: call.command, appId: call.appId })
  }
}
