import type { Service } from '@conduit/core'
import {
  type AnyEventBridgeEvent,
  eventBridgeInvocation,
  handleEventBridgeEvent,
  isEventBridgeEvent,
} from './eventbridge.js'
import { DEFAULT_EVENT_NAME_ATTRIBUTE, type EventNaming } from './inboundEnvelope.js'
import type { InvocationTrigger } from './invocationSpan.js'
import { LambdaRuntime, type LambdaRuntimeOptions } from './LambdaRuntime.js'
import type { LambdaContext, SnsEvent, SqsBatchResponse, SqsEvent } from './lambdaTypes.js'
import { handleSnsEvent, isSnsEvent, snsInvocation } from './sns.js'
import { handleSqsEvent, isSqsEvent, sqsInvocation } from './sqs.js'

export interface EventHandlerOptions extends LambdaRuntimeOptions {
  /**
   * Event name of bare payloads whose record names none: no event-name message attribute, or
   * an EventBridge detail-type that is not an event name (e.g. `Object Created`).
   */
  eventName?: string
  /** SQS / SNS message attribute that names the event of a bare payload; default `eventName` */
  eventNameAttribute?: string
  /** records of a standard SQS queue handled at once; default 10 (FIFO: one by one) */
  sqsConcurrency?: number
}

export type SourceEvent = SqsEvent | SnsEvent | AnyEventBridgeEvent

export interface EventHandler {
  (event: SqsEvent, context?: LambdaContext): Promise<SqsBatchResponse>
  (event: SnsEvent | AnyEventBridgeEvent, context?: LambdaContext): Promise<void>
  (event: SourceEvent, context?: LambdaContext): Promise<SqsBatchResponse | undefined>
  readonly runtime: LambdaRuntime
  /** Stops the service and closes its bridge (also done on SIGTERM). */
  close(): Promise<void>
}

/**
 * A Lambda handler feeding the service's subscriptions from SQS (partial batch failures),
 * EventBridge and SNS. Each record becomes an event envelope and runs through the engine's
 * receiver of every subscription it matches (pattern and filters), exactly as on a broker.
 */
export function createEventHandler(
  target: Service | LambdaRuntime,
  options: EventHandlerOptions = {},
): EventHandler {
  const runtime = LambdaRuntime.of(target, options)
  const naming: EventNaming = {
    attribute: options.eventNameAttribute ?? DEFAULT_EVENT_NAME_ATTRIBUTE,
    fallback: options.eventName,
  }
  const concurrency = Math.max(1, options.sqsConcurrency ?? 10)
  const logger = runtime.bridge.logger.child({ component: 'lambda-events' })

  const handler = (event: SourceEvent, context?: LambdaContext): Promise<SqsBatchResponse | undefined> => {
    const { bridge } = runtime
    const source = sourceOf(event)
    return runtime.invoke<SqsBatchResponse | undefined>(context, source.trigger, async () => {
      await runtime.ready()
      switch (source.kind) {
        case 'sqs':
          return handleSqsEvent(source.event, bridge, logger, { naming, concurrency })
        case 'eventbridge':
          return void (await handleEventBridgeEvent(source.event, bridge, logger, naming))
        case 'sns':
          return void (await handleSnsEvent(source.event, bridge, logger, naming))
        case 'empty':
          return { batchItemFailures: [] } // an event source mapping with nothing to deliver
        default:
          return unknown(event)
      }
    })
  }
  return Object.assign(handler as EventHandler, { runtime, close: () => runtime.close() })
}

type RecognisedEvent =
  | { kind: 'sqs'; event: SqsEvent; trigger: InvocationTrigger }
  | { kind: 'eventbridge'; event: AnyEventBridgeEvent; trigger: InvocationTrigger }
  | { kind: 'sns'; event: SnsEvent; trigger: InvocationTrigger }
  | { kind: 'empty' | 'unknown'; trigger: InvocationTrigger }

/** Which source sent the event, and what its invocation span says about it. */
function sourceOf(event: SourceEvent): RecognisedEvent {
  if (isSqsEvent(event)) return { kind: 'sqs', event, trigger: sqsInvocation(event) }
  if (isEventBridgeEvent(event)) return { kind: 'eventbridge', event, trigger: eventBridgeInvocation(event) }
  if (isSnsEvent(event)) return { kind: 'sns', event, trigger: snsInvocation() }
  const records = (event as { Records?: unknown }).Records
  const kind = Array.isArray(records) && records.length === 0 ? 'empty' : 'unknown'
  return { kind, trigger: { trigger: 'other' } }
}

function unknown(event: unknown): never {
  const keys = typeof event === 'object' && event !== null ? Object.keys(event).join(', ') : typeof event
  throw new TypeError(`createEventHandler: not an SQS, SNS or EventBridge event (keys: ${keys})`)
}
