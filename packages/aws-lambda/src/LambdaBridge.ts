import { AsyncLocalStorage } from 'node:async_hooks'
import type { CommandAddress, Envelope, EventBridgeOptions, InvokeOptions } from '@conduit/core'
import { EventBridge, type Transport } from '@conduit/core/transport'
import { createLambdaTransport, type LambdaTransport, type SubscriptionOutcome } from './LambdaTransport.js'

/** The part of the Lambda context the bridge needs: how long the invocation may still run. */
export interface InvocationClock {
  getRemainingTimeInMillis(): number
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
  private readonly invocationDeadline = new AsyncLocalStorage<number>()

  constructor(outgoing: Transport, options: EventBridgeOptions = {}) {
    super(createLambdaTransport(outgoing), options)
  }

  /** The transport outgoing invokes and emits go through (connected by `start()`). */
  get outgoing(): Transport {
    return this.transport.outgoing
  }

  /**
   * Runs `work` as one Lambda invocation: every command invoked while it runs (by the HTTP
   * gateway or by a handler) gets a deadline no later than the invocation's own end.
   */
  runInvocation<T>(clock: InvocationClock | undefined, work: () => Promise<T>): Promise<T> {
    if (typeof clock?.getRemainingTimeInMillis !== 'function') return work()
    const deadline = Date.now() + clock.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS
    return this.invocationDeadline.run(deadline, work)
  }

  override invokeAddress(address: CommandAddress, payload: unknown, options: InvokeOptions = {}) {
    const deadline = this.invocationDeadline.getStore()
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
