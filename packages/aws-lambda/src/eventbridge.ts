import type { Logger } from '@conduit/core'
import { type EventNaming, envelopeFromValue, type RecordOrigin } from './inboundEnvelope.js'
import type { InvocationTrigger } from './invocationSpan.js'
import type { LambdaBridge } from './LambdaBridge.js'
import type { EventBridgeEvent } from './lambdaTypes.js'
import { deliverRecord, RecordDeliveryError } from './recordDelivery.js'

export type AnyEventBridgeEvent = EventBridgeEvent<string, unknown>

/** True for an event an EventBridge rule sent to the function. */
export function isEventBridgeEvent(event: unknown): event is AnyEventBridgeEvent {
  const candidate = event as Partial<AnyEventBridgeEvent> | null
  return typeof candidate?.['detail-type'] === 'string' && candidate !== null && 'detail' in candidate
}

/**
 * Delivers the event: `detail-type` names it (else the eventName option), `detail` is the
 * payload, or a whole envelope / CloudEvent. EventBridge invokes asynchronously: a failure is
 * thrown, so Lambda retries it and then sends it to the on-failure destination / DLQ.
 */
export async function handleEventBridgeEvent(
  event: AnyEventBridgeEvent,
  bridge: LambdaBridge,
  logger: Logger,
  naming: EventNaming,
): Promise<void> {
  const time = Date.parse(event.time)
  const origin: RecordOrigin = {
    id: event.id,
    source: event.source || 'aws:events',
    time: Number.isNaN(time) ? undefined : time,
    eventName: event['detail-type'],
  }
  const result = await deliverRecord(bridge, logger, origin, 1, () =>
    envelopeFromValue(event, origin, naming),
  )
  if (!result.ok) throw new RecordDeliveryError([{ recordId: event.id, reason: result.reason }])
}

/**
 * The invocation's span for an EventBridge event: `timer` for a schedule (EventBridge rules and
 * EventBridge Scheduler send `Scheduled Event`), else `pubsub`. The event carries no trace
 * header: EventBridge passes a PutEvents trace to the invocation (`_X_AMZN_TRACE_ID`).
 */
export function eventBridgeInvocation(event: AnyEventBridgeEvent): InvocationTrigger {
  const scheduled =
    event['detail-type'] === 'Scheduled Event' &&
    (event.source === 'aws.events' || event.source === 'aws.scheduler')
  return { trigger: scheduled ? 'timer' : 'pubsub' }
}
