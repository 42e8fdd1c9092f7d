import { createService, defineService, handleSubscription, MemoryBridge, MemoryBroker } from '@conduit/core'
import { createMemoryTransport } from '@conduit/core/transport'
import type { SQSEvent, SQSRecord } from 'aws-lambda'
import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { createEventHandler, type EventHandler, type EventHandlerOptions } from '../src/index.js'
import { fixture, lambdaContext } from './support/lambda.js'
import { createMailerService, type MailerRecord } from './support/services.js'

const BAD_RECORD = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d'

/** One record like the fixture's, carrying `body` (bare payloads named by the eventName attribute). */
function sqsRecord(messageId: string, body: unknown, eventName?: string, receiveCount = 1): SQSRecord {
  const record = structuredClone(fixture<SQSEvent>('sqs-batch').Records[0]!)
  record.messageId = messageId
  record.body = typeof body === 'string' ? body : JSON.stringify(body)
  record.attributes.ApproximateReceiveCount = String(receiveCount)
  record.messageAttributes = eventName
    ? {
        eventName: { stringValue: eventName, dataType: 'String', stringListValues: [], binaryListValues: [] },
      }
    : {}
  return record
}

const user = (userId: string, name = `Name of ${userId}`) => ({
  userId,
  name,
  email: `${userId}@example.org`,
})

describe('createEventHandler with SQS', () => {
  let records: MailerRecord[]
  const handlers: EventHandler[] = []
  const open = (options: EventHandlerOptions = {}) => {
    records = []
    const handler = createEventHandler(createMailerService(records), { closeOnSigterm: false, ...options })
    handlers.push(handler)
    return handler
  }
  afterEach(async () => {
    await Promise.all(handlers.splice(0).map((handler) => handler.close()))
  })
  // Records of a standard queue run concurrently: compare in userId order.
  const welcomed = () =>
    records
      .filter((r) => r.subscription === 'sendWelcome')
      .map((r) => r.payload as { userId: string })
      .sort((a, b) => a.userId.localeCompare(b.userId))
  const welcomeOf = (userId: string) =>
    records.find(
      (r) => r.subscription === 'sendWelcome' && (r.payload as { userId: string }).userId === userId,
    )

  it('reports only the malformed record of the batch as failed and handles the others', async () => {
    const result = await open()(fixture<SQSEvent>('sqs-batch'), lambdaContext())
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: BAD_RECORD }] })
    expect(welcomed()).toEqual([
      { userId: 'u-1', name: 'Ada Lovelace', email: 'ada@example.org' },
      { userId: 'u-2', name: 'Grace Hopper', email: 'grace@example.org' },
      { userId: 'u-3', name: 'Katherine Johnson', email: 'katherine@example.org' },
    ])
  })

  it('keeps what a Conduit envelope or a CloudEvent carries (correlation, trace, sender)', async () => {
    await open()(fixture<SQSEvent>('sqs-batch'), lambdaContext())
    expect(welcomeOf('u-1')).toMatchObject({
      correlationId: 'corr-envelope-1',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      sender: { service: 'user', name: 'registerUser' },
      attempt: 1,
    })
    expect(welcomeOf('u-2')).toMatchObject({
      correlationId: 'ce-2',
      sender: { instanceId: 'https://signup.example.org' },
    })
    expect(welcomeOf('u-3')).toMatchObject({
      correlationId: '6c4f7a0e-3c1b-4f5e-9d0a-1b2c3d4e5f60',
      sender: { instanceId: 'arn:aws:sqs:us-east-2:123456789012:conduit-email-queue' },
    })
  })

  it('applies subscription filters: only the event sent by the user service reaches auditUsers', async () => {
    await open()(fixture<SQSEvent>('sqs-batch'), lambdaContext())
    expect(records.filter((r) => r.subscription === 'auditUsers').map((r) => r.correlationId)).toEqual([
      'corr-envelope-1',
    ])
  })

  it('reports a record whose handler failed, with the receive count as the attempt', async () => {
    const handler = open()
    const result = await handler(
      {
        Records: [
          sqsRecord('ok-1', user('u-10'), 'user.registered'),
          sqsRecord('fails-1', user('u-11', 'fail'), 'user.registered', 2),
          sqsRecord('last-attempt', user('u-12', 'fail'), 'user.registered', 3),
          sqsRecord('invalid-payload', { userId: 'u-13', name: 'x', email: 'nope' }, 'user.registered'),
        ],
      },
      lambdaContext(),
    )
    expect(result.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual([
      'fails-1',
      'invalid-payload',
      'last-attempt',
    ])
    expect(welcomed()).toEqual([user('u-10')])
  })

  it('acknowledges a record no subscription matches', async () => {
    const result = await open()(
      { Records: [sqsRecord('order-1', { orderId: 1 }, 'order.placed')] },
      lambdaContext(),
    )
    expect(result.batchItemFailures).toEqual([])
    expect(records).toEqual([])
  })

  it('names bare payloads by the eventName option when the record names none', async () => {
    const withoutName = { Records: [sqsRecord('bare-1', user('u-20'))] }
    expect((await open()(withoutName, lambdaContext())).batchItemFailures).toEqual([
      { itemIdentifier: 'bare-1' },
    ])
    const handler = open({ eventName: 'user.registered' })
    expect((await handler(withoutName, lambdaContext())).batchItemFailures).toEqual([])
    expect(welcomed()).toEqual([user('u-20')])
  })

  it('reads an attribute other than eventName when told to', async () => {
    const record = sqsRecord('attr-1', user('u-21'))
    record.messageAttributes = {
      type: {
        stringValue: 'user.registered',
        dataType: 'String',
        stringListValues: [],
        binaryListValues: [],
      },
    }
    const result = await open({ eventNameAttribute: 'type' })({ Records: [record] }, lambdaContext())
    expect(result.batchItemFailures).toEqual([])
    expect(welcomed()).toEqual([user('u-21')])
  })

  it('unwraps EventBridge events and SNS notifications delivered through the queue', async () => {
    const ruleTarget = fixture('eventbridge')
    const snsBody = {
      Type: 'Notification',
      MessageId: 'sns-in-sqs-1',
      TopicArn: 'arn:aws:sns:us-east-2:123456789012:conduit-users',
      Message: JSON.stringify(user('u-31')),
      Timestamp: '2025-03-12T18:10:22.000Z',
      MessageAttributes: { eventName: { Type: 'String', Value: 'user.registered' } },
    }
    const result = await open()(
      { Records: [sqsRecord('eb-in-sqs', ruleTarget), sqsRecord('sns-in-sqs', snsBody)] },
      lambdaContext(),
    )
    expect(result.batchItemFailures).toEqual([])
    expect(welcomed()).toEqual([
      user('u-31'),
      { userId: 'u-4', name: 'Dorothy Vaughan', email: 'dorothy@example.org' },
    ])
    expect(welcomeOf('u-4')).toMatchObject({ correlationId: '6a7e8feb-b491-4cf7-a9f1-bf3703467718' })
  })

  it('stops a FIFO batch at the first failure and returns the rest unhandled', async () => {
    const fifo = (record: SQSRecord) => ({
      ...record,
      eventSourceARN: 'arn:aws:sqs:us-east-2:123456789012:conduit-email.fifo',
    })
    const result = await open()(
      {
        Records: [
          fifo(sqsRecord('first', user('u-40'), 'user.registered')),
          fifo(sqsRecord('second', user('u-41', 'fail'), 'user.registered')),
          fifo(sqsRecord('third', user('u-42'), 'user.registered')),
        ],
      },
      lambdaContext(),
    )
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'second' }, { itemIdentifier: 'third' }])
    expect(welcomed()).toEqual([user('u-40')])
  })

  it('answers an empty batch with no failures', async () => {
    expect(await open()({ Records: [] }, lambdaContext())).toEqual({ batchItemFailures: [] })
  })

  it('sends what a subscription emits through the given outgoing transport', async () => {
    const broker = new MemoryBroker()
    const bridge = new MemoryBridge({ broker })
    await bridge.start()
    const sent: unknown[] = []
    const handler = open({ outgoing: createMemoryTransport(broker) })
    const listener = await bridge.registerSubscription(
      {
        group: 'test.mailSent',
        eventPattern: 'mail.sent',
        delivery: 'at-most-once',
        everyInstance: false,
        maxAttempts: 1,
        filter: {},
        subject: 'test listener',
      },
      async (scope) => void sent.push(scope.message.payload),
    )
    await handler({ Records: [sqsRecord('emit-1', user('u-50'), 'user.registered')] }, lambdaContext())
    await expect.poll(() => sent).toEqual([{ userId: 'u-50', to: 'u-50@example.org' }])
    await listener.close()
    await bridge.stop()
  })

  it('refuses an everyInstance subscription at start, naming the bridge and the capability', async () => {
    const cacheV1 = defineService({ name: 'cache', version: '1' })
    const dropEntry = cacheV1.subscription('dropEntry', {
      event: 'user.registered',
      input: z.unknown(),
      everyInstance: true,
    })
    const handler = createEventHandler(
      createService(cacheV1, { subscriptions: [handleSubscription(dropEntry, () => {})] }),
      {
        closeOnSigterm: false,
      },
    )
    handlers.push(handler)
    await expect(handler({ Records: [] }, lambdaContext())).rejects.toMatchObject({
      code: 'CAPABILITY_MISSING',
      message: expect.stringMatching(
        /^aws-lambda cannot run subscription cache\.v1\.dropEntry: it needs the capability "everyInstance"/,
      ),
    })
  })

  it('refuses events it does not know', async () => {
    const handler = open()
    await expect(handler({ hello: 'world' } as never, lambdaContext())).rejects.toThrow(
      /not an SQS, SNS or EventBridge event/,
    )
  })
})
