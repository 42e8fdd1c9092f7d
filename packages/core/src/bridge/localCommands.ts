import { commandAddressKey, type Envelope } from '../envelope/envelope.js'
import { BridgeUnavailableError, isConduitError, TimeoutError } from '../errors/errors.js'
import { errorFromWire, errorToWire } from '../errors/wire.js'
import type { Logger } from '../observability/logging.js'
import { NOOP_SPAN, traceIdOf } from '../observability/tracing.js'
import type { CommandAddress } from '../transport/port.js'
import type { LocalCommandHandler, LocalRoute } from './LocalRoute.js'
import type { PendingInvocations, Waiter } from './PendingInvocations.js'

const RESOLVED = Promise.resolve()

/**
 * The in-process fast lane: a command whose only listener is this bridge's own in-process one
 * runs on the local handler directly, with no reply envelope and no trip through the transport.
 * The engine takes it only when no span records and no metrics are on, so what a caller, a
 * handler and a log can see is what the transport path gives: the same envelope reaches the
 * handler, the same deadline checks run, draining counts it, and an error reaches the caller
 * as the wire would rebuild it (an unexpected one as a generic 500, its message kept off).
 * Settled by callbacks rather than an async function: one promise fewer per call.
 */
export function runLocalCommand(
  route: LocalRoute<LocalCommandHandler>,
  command: Envelope,
  address: CommandAddress,
  pending: PendingInvocations,
  waiter: Waiter,
  logger: Logger,
): void {
  // Asynchronous like any bridge: the caller's code never runs inside the handler's stack.
  RESOLVED.then(() => {
    const handler = route.pick()
    if (handler === undefined) {
      return fail(
        pending,
        waiter,
        command,
        new BridgeUnavailableError(`${commandAddressKey(address)} is stopping on this instance`),
      )
    }
    if (command.deadline !== undefined && command.deadline <= Date.now()) {
      // The caller has given up (or is about to): running it now would only do unwanted work.
      logger.debug({ correlationId: command.correlationId }, 'command expired before pickup, not executed')
      return fail(
        pending,
        waiter,
        command,
        new TimeoutError('Deadline passed before the command was picked up'),
      )
    }
    handler.inFlight.begin()
    let running: Promise<unknown>
    try {
      running = handler.execute({ message: command, span: NOOP_SPAN, traceparent: command.traceparent })
    } catch (error) {
      running = Promise.reject(error) // an executor that throws instead of rejecting still answers
    }
    running.then(
      (output) => {
        handler.inFlight.end()
        pending.settle(waiter, output)
      },
      (error) => {
        handler.inFlight.end()
        if (!isConduitError(error)) {
          logger.error(
            {
              err: error,
              correlationId: command.correlationId,
              traceId: traceIdOf(command.traceparent),
              command: commandAddressKey(address),
            },
            'command failed with an unhandled error',
          )
        }
        fail(pending, waiter, command, error)
      },
    )
  })
}

/** Fails the call with the error as the caller would rebuild it from an error reply. */
function fail(pending: PendingInvocations, waiter: Waiter, command: Envelope, error: unknown): void {
  pending.fail(waiter, errorFromWire(errorToWire(error, command.correlationId)))
}
