import type { EventBridgeEvent, SNSEvent } from 'aws-lambda'
import { afterEach, describe, expect, it } from 'vitest'
import { createEventHandler, type EventHandler, RecordDeliveryError } from '../src/index.js'
import { fixture, lambdaContext } from './support/lambda.js'
import { createMailerService, type MailerRecord } from './support/services.js'

type AnyEventBridgeEvent = EventBridgeEvent<string, unknown>

describe('createEventHandler with EventBridge and SNS', () => {
  let records: MailerRecord[]
  const handlers: EventHandler[] = []
  const open = (eventName?: string) => {
    records = []
    const handler = createEventHandler(createMailerService(records), { closeOnSigterm: false, eventName })
    handlers.push(handler)
    return handler
  }
  afterEach(async () => {
    await Promise.all(handlers.splice(0).map((handler) => handler.close()))
  })
  const welcomed = () => records.filter((r) => r.subscription === 'sendWelcome')

  describe('EventBridge', () => {
    it('delivers detail as the payload of the event named by detail-type', async () => {
      await expect(
        open()(fixture<AnyEventBridgeEvent>('eventbridge'), lambdaContext()),
      ).resolves.toBeUndefined()
      expect(welcomed()).toEqual([
        expect.objectContaining({
          eventName: 'user.registered',
          payload: { userId: 'u-4', name: 'Dorothy Vaughan', email: 'dorothy@example.org' },
          correlationId: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
          sender: { instanceId: 'conduit.user' },
        }),
      ])
    })

    it('uses a whole Conduit envelope carried as detail', async () => {
      const event = fixture<AnyEventBridgeEvent>('eventbridge')
      const sqs = fixture<{ Records: { body: string }[] }>('sqs-batch')
      event.detail = JSON.parse(sqs.Records[0]!.body)
      await open()(event, lambdaContext())
      expect(welcomed()).toEqual([
        expect.objectContaining({
          correlationId: 'corr-envelope-1',
          sender: expect.objectContaining({ service: 'user' }),
        }),
      ])
      expect(records.map((r) => r.subscription)).toContain('auditUsers')
    })

    it('throws when a subscription fails, so Lambda retries the event', async () => {
      const event = fixture<AnyEventBridgeEvent>('eventbridge')
      event.detail = { userId: 'u-9', name: 'fail', email: 'u-9@example.org' }
      const error = await open()(event, lambdaContext()).catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(RecordDeliveryError)
      expect((error as RecordDeliveryError).failures).toEqual([
        { recordId: event.id, reason: 'mailer.v1.sendWelcome: failed on attempt 1' },
      ])
    })

    it('names AWS service events by the eventName option, and throws without one', async () => {
      const event = fixture<AnyEventBridgeEvent>('eventbridge')
      event['detail-type'] = 'Object Created'
      await expect(open()(event, lambdaContext())).rejects.toThrow(/"Object Created" is not an event name/)
      await open('user.registered')(event, lambdaContext())
      expect(welcomed()).toHaveLength(1)
    })
  })

  describe('SNS', () => {
    it('delivers the Message named by its eventName attribute', async () => {
      await expect(open()(fixture<SNSEvent>('sns'), lambdaContext())).resolves.toBeUndefined()
      expect(welcomed()).toEqual([
        expect.objectContaining({
          payload: { userId: 'u-5', name: 'Mary Jackson', email: 'mary@example.org' },
          correlationId: '95df01b4-ee98-5cb9-9903-4c221d41eb5e',
          sender: { instanceId: 'arn:aws:sns:us-east-2:123456789012:conduit-users' },
        }),
      ])
    })

    it('throws for a failed or malformed message', async () => {
      const failing = fixture<SNSEvent>('sns')
      failing.Records[0]!.Sns.Message = JSON.stringify({
        userId: 'u-6',
        name: 'fail',
        email: 'u-6@example.org',
      })
      await expect(open()(failing, lambdaContext())).rejects.toThrow(
        /mailer\.v1\.sendWelcome: failed on attempt 1/,
      )

      const malformed = fixture<SNSEvent>('sns')
      malformed.Records[0]!.Sns.Message = '<xml/>'
      await expect(open()(malformed, lambdaContext())).rejects.toThrow(/body is not JSON/)
      expect(welcomed()).toEqual([])
    })
  })
})
