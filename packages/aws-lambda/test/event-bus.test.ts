import { afterEach, describe, expect, it } from 'vitest'
import {
  createEventBusTransport,
  createEventHandler,
  createHttpHandler,
  EventBusBridge,
  type PutEventsEntry,
  type PutEventsResult,
} from '../src/index.js'
import { eventBridgeEventFrom, sqsEventFrom } from '../src/testing.js'
import { bodyOf, fixture, lambdaContext } from './support/lambda.js'
import { createMailerService, type MailerRecord, userService } from './support/services.js'

// No AWS here: `putEvents` stands in for the PutEvents API and keeps the entries, which are
// then delivered the way an EventBridge rule does (to a Lambda target, or to an SQS target).
describe('the event bus transport: user function → bus → email function', () => {
  const closers: (() => Promise<void>)[] = []
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((close) => close()))
  })

  function userFunction(putEvents: (entries: PutEventsEntry[]) => Promise<PutEventsResult>) {
    const handler = createHttpHandler(userService, {
      outgoing: createEventBusTransport({ eventBusName: 'conduit', putEvents }),
      auth: () => undefined,
      closeOnSigterm: false,
    })
    closers.push(handler.close)
    return handler
  }

  function mailerFunction(records: MailerRecord[]) {
    const handler = createEventHandler(createMailerService(records), { closeOnSigterm: false })
    closers.push(handler.close)
    return handler
  }

  it('puts each emitted event on the bus, named by detail-type, with the envelope as detail', async () => {
    const entries: PutEventsEntry[] = []
    const result = await userFunction(async (batch) => {
      entries.push(...batch)
      return { FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] }
    })(fixture('api-gateway-v2'), lambdaContext())
    expect(result.statusCode).toBe(201)
    expect(entries).toHaveLength(1)
    const [entry] = entries
    expect(entry).toMatchObject({
      EventBusName: 'conduit',
      Source: 'conduit.user',
      DetailType: 'user.registered',
    })
    expect(JSON.parse(entry!.Detail)).toMatchObject({
      type: 'event',
      eventName: 'user.registered',
      correlationId: 'http-api-request-1',
      payload: { userId: bodyOf(result).userId, name: 'Grace Hopper', email: 'grace@example.org' },
    })

    // A rule with a Lambda target, and a rule with an SQS target, deliver the same entry.
    const records: MailerRecord[] = []
    const mailer = mailerFunction(records)
    await mailer(eventBridgeEventFrom(entry!), lambdaContext())
    const batch = await mailer(sqsEventFrom([eventBridgeEventFrom(entry!)]), lambdaContext())
    expect(batch.batchItemFailures).toEqual([])
    const welcomes = records.filter((r) => r.subscription === 'sendWelcome')
    expect(welcomes).toHaveLength(2)
    for (const welcome of welcomes) {
      expect(welcome).toMatchObject({
        correlationId: 'http-api-request-1',
        sender: expect.objectContaining({ service: 'user', name: 'registerUser' }),
      })
    }
    // The envelope keeps the sender, so the mailer's sender filter holds across AWS too.
    expect(records.filter((r) => r.subscription === 'auditUsers')).toHaveLength(2)
  })

  it('reports an entry the bus refused to the caller instead of dropping it', async () => {
    const result = await userFunction(async () => ({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' }],
    }))(fixture('api-gateway-v2'), lambdaContext())
    expect(result.statusCode).toBe(503)
    expect(bodyOf(result)).toMatchObject({
      code: 'BRIDGE_UNAVAILABLE',
      message: 'EventBridge refused user.registered: ThrottlingException Rate exceeded',
    })
  })

  it('names the missing AWS SDK when no putEvents is given outside Lambda', async () => {
    await expect(new EventBusBridge().start()).rejects.toMatchObject({
      code: 'MISSING_DEPENDENCY',
      message: expect.stringContaining('@aws-sdk/client-eventbridge'),
    })
  })
})
