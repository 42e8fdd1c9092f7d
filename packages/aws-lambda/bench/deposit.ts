import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, SQSEvent } from 'aws-lambda'
import { z } from 'zod'

// The business logic and a hand-written Lambda handler for it (the baseline), with no Conduit
// import, so the raw cold start loads only what a handler without Conduit would.

export const depositInput = z.object({
  accountId: z.string().min(1),
  amount: z.number().int().positive(),
  note: z.string().optional(),
})
export const depositOutput = z.object({ accountId: z.string(), balance: z.number() })
export type DepositInput = z.output<typeof depositInput>

/** The command's handler: what "calling the command handler directly" calls. */
export const deposit = async (input: DepositInput) => ({
  accountId: input.accountId,
  balance: input.amount + 1,
})

/** A hand-written handler doing the same work without Conduit: parse, validate, run, validate, answer. */
export async function rawHttpHandler(
  event: APIGatewayProxyEventV2,
): Promise<APIGatewayProxyStructuredResultV2> {
  let body: unknown
  try {
    body = JSON.parse(event.body ?? '')
  } catch {
    return { statusCode: 400, body: '{"message":"malformed JSON"}' }
  }
  const input = depositInput.safeParse(body)
  if (!input.success) return { statusCode: 400, body: JSON.stringify({ issues: input.error.issues }) }
  const output = depositOutput.parse(await deposit(input.data))
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(output) }
}

/** The hand-written SQS counterpart: each record's body validated and handled. */
export async function rawSqsHandler(event: SQSEvent) {
  const batchItemFailures: { itemIdentifier: string }[] = []
  for (const record of event.Records) {
    const input = depositInput.safeParse(JSON.parse(record.body))
    if (input.success) await deposit(input.data)
    else batchItemFailures.push({ itemIdentifier: record.messageId })
  }
  return { batchItemFailures }
}

const BODY = JSON.stringify({ accountId: 'acc-42', amount: 100, note: 'benchmark' })

/** An HTTP API (payload 2.0) request for POST /api/v1/account/deposits. */
export function depositRequest(): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/api/v1/account/deposits',
    rawQueryString: '',
    headers: { 'content-type': 'application/json', host: 'bench.execute-api.us-east-1.amazonaws.com' },
    requestContext: {
      accountId: '123456789012',
      apiId: 'bench',
      domainName: 'bench.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'bench',
      http: {
        method: 'POST',
        path: '/api/v1/account/deposits',
        protocol: 'HTTP/1.1',
        sourceIp: '192.0.2.1',
        userAgent: 'bench',
      },
      requestId: 'bench',
      routeKey: '$default',
      stage: '$default',
      time: '12/Mar/2025:18:10:22 +0000',
      timeEpoch: 1741803022000,
    },
    body: BODY,
    isBase64Encoded: false,
  }
}

/** An SQS batch of one bare `account.deposited` record. */
export function depositRecord(): SQSEvent {
  return {
    Records: [
      {
        messageId: 'bench-1',
        receiptHandle: 'bench',
        body: BODY,
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: '1741803022000',
          SenderId: 'bench',
          ApproximateFirstReceiveTimestamp: '1741803022000',
        },
        messageAttributes: {
          eventName: {
            stringValue: 'account.deposited',
            dataType: 'String',
            stringListValues: [],
            binaryListValues: [],
          },
        },
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:bench',
        awsRegion: 'us-east-1',
      },
    ],
  }
}
