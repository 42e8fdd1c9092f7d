import type { Logger } from '@conduit/core'
import { type EventNaming, envelopeFromBody, type RecordOrigin } from './inboundEnvelope.js'
import type { InvocationTrigger } from './invocationSpan.js'
import type { LambdaBridge } from './LambdaBridge.js'
import type { SnsEvent, SnsRecord } from './lambdaTypes.js'
import { deliverRecord, RecordDeliveryError } from './recordDelivery.js'

/** True for an SNS subscription's event. */
export function isSnsEvent(event: unknown): event is SnsEvent {
  const records = (event as Partial<SnsEvent> | null)?.Records
  return Array.isArray(records) && records.length > 0 && records[0]?.EventSource === 'aws:sns'
}

/**
 * Delivers each notification's Message (an envelope, a CloudEvent or a bare payload named by
 * the event-name message attribute). SNS invokes asynchronously: a failure is thrown, so
 * Lambda retries the event and then sends it to the function's on-failure destination / DLQ.
 */
export async function handleSnsEvent(
  event: SnsEvent,
  bridge: LambdaBridge,
  logger: Logger,
  naming: EventNaming,
): Promise<void> {
  const failures: { recordId: string; reason: string }[] = []
  for (const record of event.Records) {
    const origin = snsOrigin(record, naming.attribute)
    const result = await deliverRecord(bridge, logger, origin, 1, () =>
      envelopeFromBody(record.Sns.Message, origin, naming),
    )
    if (!result.ok) failures.push({ recordId: origin.id, reason: result.reason })
  }
  if (failures.length > 0) throw new RecordDeliveryError(failures)
}

/**
 * The invocation's span for SNS notifications. SNS carries no trace header in the event: an
 * active-tracing topic passes its trace to the invocation (`_X_AMZN_TRACE_ID`).
 */
export function snsInvocation(): InvocationTrigger {
  return { trigger: 'pubsub' }
}

function snsOrigin(record: SnsRecord, eventNameAttribute: string): RecordOrigin {
  const attribute = (name: string) => record.Sns.MessageAttributes?.[name]?.Value
  const time = Date.parse(record.Sns.Timestamp)
  return {
    id: record.Sns.MessageId,
    source: record.Sns.TopicArn || record.EventSubscriptionArn || 'aws:sns',
    time: Number.isNaN(time) ? undefined : time,
    eventName: attribute(eventNameAttribute),
    traceparent: attribute('traceparent'),
    tracestate: attribute('tracestate'),
  }
}
