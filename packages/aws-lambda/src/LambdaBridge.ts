import { AsyncLocalStorage } from 'node:async_hooks'
import {
  BridgeUnavailableError,
  type CommandAddress,
  type Envelope,
  EventBridge,
  type EventBridgeOptions,
  type InvokeOptions,
} from '@conduit/core'
import {
  createLambdaTransport,
  type LambdaTransport,
  type OutgoingBridge,
  type SubscriptionOutcome,
} from './LambdaTransport.js'

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
 * through the outgoing bridge. The engine (validation, deadlines, tracing, errors) is core's.
 */
export class LambdaBridge extends EventBridge {
  private readonly lambdaTransport: LambdaTransport
  private readonly invocationDeadline = new AsyncLocalStorage<number>()

  constructor(outgoing: OutgoingBridge, options: EventBridgeOptions = {}) {
    const transport = createLambdaTransport(outgoing)
    super(transport, options)
    this.lambdaTransport = transport
  }

  /** The bridge outgoing invokes and emits go through (set once `connectOutgoing` resolved). */
  get outgoing(): EventBridge {
    const outgoing = this.lambdaTransport.outgoing
    if (!outgoing) throw new BridgeUnavailableError('the outgoing bridge is not connected yet')
    return outgoing
  }

  /** Creates and starts the outgoing bridge once; a failure is retried by the next call. */
  connectOutgoing(): Promise<EventBridge> {
    return this.lambdaTransport.connectOutgoing()
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
    return this.lambdaTransport.deliverEvent(event, attempt)
  }
}
