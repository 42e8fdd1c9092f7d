import type { Logger } from '@conduit/core'
import { SpanKind } from '@opentelemetry/api'
import { type EventNaming, envelopeFromBody, type RecordOrigin } from './inboundEnvelope.js'
import type { InvocationTrigger } from './invocationSpan.js'
import type { LambdaBridge } from './LambdaBridge.js'
import type { SqsBatchResponse, SqsEvent, SqsRecord } from './lambdaTypes.js'
import { deliverRecord, type RecordResult } from './recordDelivery.js'

export interface SqsOptions {
  naming: EventNaming
  /** records of a standard queue handled at once; FIFO queues go one by one, in order */
  concurrency: number
}

/** True for the records of an SQS event source mapping. */
export function isSqsEvent(event: unknown): event is SqsEvent {
  const records = (event as Partial<SqsEvent> | null)?.Records
  return Array.isArray(records) && records.length > 0 && records[0]?.eventSource === 'aws:sqs'
}

/**
 * Delivers each record and reports the failed ones in `batchItemFailures`, so SQS retries only
 * those (the event source mapping needs `FunctionResponseTypes: [ReportBatchItemFailures]`).
 * The attempt is the record's ApproximateReceiveCount. On a FIFO queue the records after a
 * failure are not handled and are reported too, so the group's order holds.
 */
export async function handleSqsEvent(
  event: SqsEvent,
  bridge: LambdaBridge,
  logger: Logger,
  options: SqsOptions,
): Promise<SqsBatchResponse> {
  const records = event.Records
  const results: (RecordResult | undefined)[] = new Array(records.length)
  const deliver = (record: SqsRecord) => {
    const origin = sqsOrigin(record, options.naming.attribute)
    const attempt = Number(record.attributes?.ApproximateReceiveCount) || 1
    return deliverRecord(bridge, logger, origin, attempt, () =>
      envelopeFromBody(record.body, origin, options.naming),
    )
  }
  if (records.some((record) => record.eventSourceARN?.endsWith('.fifo'))) {
    for (let index = 0; index < records.length; index++) {
      const result = await deliver(records[index]!)
      results[index] = result
      if (!result.ok) break
    }
  } else {
    let next = 0
    const worker = async () => {
      while (next < records.length) {
        const index = next++
        results[index] = await deliver(records[index]!)
      }
    }
    await Promise.all(Array.from({ length: Math.min(options.concurrency, records.length) }, worker))
  }
  const batchItemFailures = records
    .filter((_, index) => results[index]?.ok !== true)
    .map((record) => ({ itemIdentifier: record.messageId }))
  if (batchItemFailures.length > 0) {
    logger.warn(
      { failed: batchItemFailures.length, of: records.length },
      'SQS batch: failed records returned for retry',
    )
  }
  return { batchItemFailures }
}

/**
 * The invocation's span for an SQS batch, as the conventions' "SQS event" span: CONSUMER,
 * `process <queue>` (`multiple_sources` for several queues), linked to each record's
 * `AWSTraceHeader` (the records' own W3C traceparents parent the engine's per-message spans).
 */
export function sqsInvocation(event: SqsEvent): InvocationTrigger {
  const queues = new Set(event.Records.map((record) => record.eventSourceARN?.split(':').at(-1) ?? ''))
  const queue = queues.size === 1 ? [...queues][0] || undefined : undefined
  return {
    trigger: 'pubsub',
    kind: SpanKind.CONSUMER,
    name: `process ${queue ?? 'multiple_sources'}`,
    attributes: {
      'messaging.system': 'aws_sqs',
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.batch.message_count': event.Records.length,
      ...(queue ? { 'messaging.destination.name': queue } : {}),
    },
    xray: event.Records.map((record) => ({
      source: 'AWSTraceHeader' as const,
      header: record.attributes?.AWSTraceHeader,
    })),
  }
}

function sqsOrigin(record: SqsRecord, eventNameAttribute: string): RecordOrigin {
  const attribute = (name: string) => record.messageAttributes?.[name]?.stringValue
  const sent = Number(record.attributes?.SentTimestamp)
  return {
    id: record.messageId,
    source: record.eventSourceARN || 'aws:sqs',
    time: Number.isFinite(sent) && sent > 0 ? sent : undefined,
    eventName: attribute(eventNameAttribute),
    traceparent: attribute('traceparent'),
    tracestate: attribute('tracestate'),
  }
}
