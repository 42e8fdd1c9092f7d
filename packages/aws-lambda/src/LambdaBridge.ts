import {
  type CommandAddress,
  createDefaultLogger,
  type Envelope,
  type EventBridgeOptions,
  type InvokeOptions,
} from '@conduit/core'
import { EventBridge, type Transport } from '@conduit/core/transport'
import { currentInvocation, InvocationLogger, runInInvocation } from './invocationScope.js'
import { createLambdaTransport, type LambdaTransport, type SubscriptionOutcome } from './LambdaTransport.js'

/** The part of the Lambda context the bridge needs: how long the invocation may still run, and its id. */
export interface InvocationClock {
  getRemainingTimeInMillis(): number
  awsRequestId?: string | undefined
}

/**
 * Milliseconds kept back from the invocation's remaining time when it bounds a command's
 * deadline, so the function answers 504 itself instead of being cut off by Lambda.
 */
export const DEADLINE_MARGIN_MS = 250

/**
 * The bridge a Lambda function's service runs on. Lambda events come in through it (HTTP
 * requests as commands, queue and bus records as events); what the handlers send goes out
 * through the `outgoing` transport, which this one engine drives (correlation, deadlines,
 * encoding, tracing and errors are core's, once).
 */
export class LambdaBridge extends EventBridge<LambdaTransport> {
  constructor(outgoing: Transport, options: EventBridgeOptions = {}) {
    // The engine's logger, and the service's unless it has its own, bind each invocation's id.
    const logger = InvocationLogger.wrap(options.logger ?? createDefaultLogger())
    super(createLambdaTransport(outgoing), { ...options, logger })
  }

  /** The transport outgoing invokes and emits go through (connected by `start()`). */
  get outgoing(): Transport {
    return this.transport.outgoing
  }

  /**
   * Runs `work` as one Lambda invocation: every command invoked while it runs (by the HTTP
   * gateway or by a handler) gets a deadline no later than the invocation's own end, and every
   * line its loggers write carries the invocation's `awsRequestId`.
   */
  runInvocation<T>(clock: InvocationClock | undefined, work: () => Promise<T>): Promise<T> {
    const deadline =
      typeof clock?.getRemainingTimeInMillis === 'function'
        ? Date.now() + clock.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS
        : undefined
    const awsRequestId = typeof clock?.awsRequestId === 'string' ? clock.awsRequestId : undefined
    return runInInvocation({ deadline, awsRequestId, boundLoggers: new Map(), ended: false }, work)
  }

  override invokeAddress(address: CommandAddress, payload: unknown, options: InvokeOptions = {}) {
    const deadline = currentInvocation()?.deadline
    if (deadline === undefined || (options.deadline !== undefined && options.deadline <= deadline)) {
      return super.invokeAddress(address, payload, options)
    }
    return super.invokeAddress(address, payload, { ...options, deadline })
  }

  /** Hands an inbound event to the matching subscriptions; resolves with each one's outcome. */
  deliverEvent(event: Envelope, attempt: number): Promise<SubscriptionOutcome[]> {
    return this.transport.deliverEvent(event, attempt)
  }
}
