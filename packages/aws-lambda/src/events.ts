import type { Service } from '@conduit/core'
import { type AnyEventBridgeEvent, handleEventBridgeEvent, isEventBridgeEvent } from './eventbridge.js'
import { DEFAULT_EVENT_NAME_ATTRIBUTE, type EventNaming } from './inboundEnvelope.js'
import { LambdaRuntime, type LambdaRuntimeOptions } from './LambdaRuntime.js'
import type { LambdaContext, SnsEvent, SqsBatchResponse, SqsEvent } from './lambdaTypes.js'
import { handleSnsEvent, isSnsEvent } from './sns.js'
import { handleSqsEvent, isSqsEvent } from './sqs.js'

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

  const handler = async (
    event: SourceEvent,
    context?: LambdaContext,
  ): Promise<SqsBatchResponse | undefined> => {
    await runtime.ready()
    const { bridge } = runtime
    return bridge.runInvocation(context, async () => {
      if (isSqsEvent(event)) return handleSqsEvent(event, bridge, logger, { naming, concurrency })
      if (isEventBridgeEvent(event)) return void (await handleEventBridgeEvent(event, bridge, logger, naming))
      if (isSnsEvent(event)) return void (await handleSnsEvent(event, bridge, logger, naming))
      if (Array.isArray((event as { Records?: unknown }).Records)) {
        // An event source mapping with nothing to deliver.
        return (event as { Records: unknown[] }).Records.length === 0
          ? { batchItemFailures: [] }
          : unknown(event)
      }
      return unknown(event)
    })
  }
  return Object.assign(handler as EventHandler, { runtime, close: () => runtime.close() })
}

function unknown(event: unknown): never {
  const keys = typeof event === 'object' && event !== null ? Object.keys(event).join(', ') : typeof event
  throw new TypeError(`createEventHandler: not an SQS, SNS or EventBridge event (keys: ${keys})`)
}
