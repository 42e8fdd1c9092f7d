/**
 * The shapes of the Lambda events, results and context this package reads and returns, as AWS
 * documents them. Our own, so the published types never need `@types/aws-lambda`: its event
 * types (`SQSEvent`, `APIGatewayProxyEventV2`, `Context`...) are assignable to these, and the
 * objects `@conduit/aws-lambda/testing` builds are assignable to its.
 */

type Strings = Record<string, string | undefined>

/** The context Lambda passes a handler (the Node.js runtime's). */
export interface LambdaContext {
  callbackWaitsForEmptyEventLoop: boolean
  functionName: string
  functionVersion: string
  invokedFunctionArn: string
  memoryLimitInMB: string
  awsRequestId: string
  logGroupName: string
  logStreamName: string
  tenantId?: string | undefined
  getRemainingTimeInMillis(): number
  /** @deprecated the runtime's callback-era API; return a promise instead */
  done(error?: Error, result?: unknown): void
  /** @deprecated the runtime's callback-era API; reject a promise instead */
  fail(error: Error | string): void
  /** @deprecated the runtime's callback-era API; resolve a promise instead */
  succeed(messageOrObject: unknown): void
}

/** API Gateway REST API proxy integration (payload format 1.0). */
export interface ApiGatewayProxyEvent {
  httpMethod: string
  path: string
  resource?: string | undefined
  headers: Strings | null
  multiValueHeaders?: Record<string, string[] | undefined> | null | undefined
  queryStringParameters?: Strings | null | undefined
  multiValueQueryStringParameters?: Record<string, string[] | undefined> | null | undefined
  pathParameters?: Strings | null | undefined
  stageVariables?: Strings | null | undefined
  body: string | null
  isBase64Encoded: boolean
  requestContext: { stage?: string | undefined; requestId?: string | undefined }
}

/** API Gateway HTTP API (payload format 2.0); function URLs send the same shape. */
export interface ApiGatewayProxyEventV2 {
  version: string
  routeKey?: string | undefined
  rawPath: string
  rawQueryString: string
  cookies?: string[] | undefined
  headers: Strings
  queryStringParameters?: Strings | undefined
  pathParameters?: Strings | undefined
  stageVariables?: Strings | undefined
  body?: string | undefined
  isBase64Encoded: boolean
  requestContext: {
    stage: string
    requestId?: string | undefined
    http: { method: string; path: string; protocol?: string | undefined; sourceIp?: string | undefined }
  }
}

/** What an HTTP handler answers: valid for payload formats 1.0 and 2.0 and function URLs. */
export interface HttpResult {
  statusCode: number
  headers?: Record<string, string> | undefined
  multiValueHeaders?: Record<string, string[]> | undefined
  cookies?: string[] | undefined
  body: string
  isBase64Encoded: boolean
}

export interface SqsMessageAttribute {
  dataType: string
  stringValue?: string | undefined
  binaryValue?: string | undefined
  stringListValues?: string[] | undefined
  binaryListValues?: string[] | undefined
}

export interface SqsRecord {
  messageId: string
  receiptHandle: string
  body: string
  attributes: {
    ApproximateReceiveCount: string
    SentTimestamp: string
    SenderId: string
    ApproximateFirstReceiveTimestamp: string
    AWSTraceHeader?: string | undefined
    SequenceNumber?: string | undefined
    MessageGroupId?: string | undefined
    MessageDeduplicationId?: string | undefined
  }
  messageAttributes: Record<string, SqsMessageAttribute>
  md5OfBody: string
  md5OfMessageAttributes?: string | undefined
  eventSource: string
  eventSourceARN: string
  awsRegion: string
}

/** The records an SQS event source mapping delivers. */
export interface SqsEvent {
  Records: SqsRecord[]
}

/** Partial batch response: the records SQS should deliver again. */
export interface SqsBatchResponse {
  batchItemFailures: { itemIdentifier: string }[]
}

export interface SnsRecord {
  EventVersion: string
  EventSubscriptionArn: string
  EventSource: string
  Sns: {
    SignatureVersion: string
    Timestamp: string
    Signature: string
    SigningCertUrl: string
    MessageId: string
    Message: string
    MessageAttributes: Record<string, { Type: string; Value: string }>
    Type: string
    UnsubscribeUrl: string
    TopicArn: string
    Subject?: string | undefined
    Token?: string | undefined
  }
}

/** The notifications an SNS subscription delivers. */
export interface SnsEvent {
  Records: SnsRecord[]
}

/** An event an EventBridge rule sends to a function. */
export interface EventBridgeEvent<TDetailType extends string = string, TDetail = unknown> {
  id: string
  version: string
  account: string
  time: string
  region: string
  resources: string[]
  source: string
  'detail-type': TDetailType
  detail: TDetail
  'replay-name'?: string | undefined
}
