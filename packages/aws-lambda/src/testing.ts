import { randomUUID } from 'node:crypto'
import type { PutEventsEntry } from './EventBusBridge.js'
import type { EventBridgeEvent, LambdaContext, SqsEvent, SqsRecord } from './lambdaTypes.js'

// Helpers to invoke handlers locally (tests, scripts) with events shaped as AWS sends them.
// Never needed at runtime: this is the `@conduit/aws-lambda/testing` entry.

/** A Lambda context with `remainingMs` left in the invocation. */
export function lambdaContext(remainingMs = 30_000, functionName = 'conduit-local'): LambdaContext {
  const endsAt = Date.now() + remainingMs
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/[$LATEST]${randomUUID().replaceAll('-', '')}`,
    getRemainingTimeInMillis: () => Math.max(0, endsAt - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  }
}

/** The event a rule delivers for a PutEvents entry (to a Lambda target, or as an SQS body). */
export function eventBridgeEventFrom(entry: PutEventsEntry): EventBridgeEvent<string, unknown> {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': entry.DetailType,
    source: entry.Source,
    account: '123456789012',
    time: entry.Time.toISOString(),
    region: 'us-east-1',
    resources: [],
    detail: JSON.parse(entry.Detail),
  }
}

/** An SQS event whose records carry `bodies` (objects are JSON-encoded), as a queue delivers them. */
export function sqsEventFrom(
  bodies: readonly unknown[],
  queueArn = 'arn:aws:sqs:us-east-1:123456789012:conduit-local',
): SqsEvent {
  const now = String(Date.now())
  return {
    Records: bodies.map(
      (body): SqsRecord => ({
        messageId: randomUUID(),
        receiptHandle: `local-${randomUUID()}`,
        body: typeof body === 'string' ? body : JSON.stringify(body),
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: now,
          SenderId: 'AIDALOCAL',
          ApproximateFirstReceiveTimestamp: now,
        },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: queueArn,
        awsRegion: 'us-east-1',
      }),
    ),
  }
}
