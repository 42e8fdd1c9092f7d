import {
  createService,
  defineService,
  type EventBridge,
  handleCommand,
  handleSubscription,
} from '@conduit/core'
import { createNatsTransport, NatsBridge } from '@conduit/nats'
import { NatsAdmin, uniquePrefix } from '@conduit/nats/testing'
import type { SQSEvent } from 'aws-lambda'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createEventHandler, createHttpHandler } from '../src/index.js'
import { bodyOf, fixture, lambdaContext } from './support/lambda.js'
import {
  checkQuota,
  createMailerService,
  mailSent,
  quotaV1,
  userRegistered,
  userService,
} from './support/services.js'

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222'

// The functions' outgoing transport is NATS; on the other side of the broker, a plain service
// instance on a NatsBridge (another process in production) listens and serves `quota.checkQuota`.
const observerV1 = defineService({ name: 'observer', version: '1' })
const seeRegistrations = observerV1.subscription('seeRegistrations', { event: userRegistered })
const seeMails = observerV1.subscription('seeMails', { event: mailSent })

describe('functions whose outgoing transport is NATS', { timeout: 20_000 }, () => {
  const prefix = uniquePrefix('lambda')
  const seen: { eventName: string; payload: any; sender: unknown; correlationId: string }[] = []
  let broker: EventBridge
  let admin: NatsAdmin
  const natsTransport = () => createNatsTransport({ servers: NATS_URL, prefix })

  beforeAll(async () => {
    admin = await NatsAdmin.connect(NATS_URL)
    broker = new NatsBridge({ servers: NATS_URL, prefix, drainTimeout: 2_000 })
    await broker.start()
    const record = (payload: unknown, ctx: { message: any }) =>
      void seen.push({
        eventName: ctx.message.eventName,
        payload,
        sender: ctx.message.sender,
        correlationId: ctx.message.correlationId,
      })
    const observer = createService(observerV1, {
      subscriptions: [handleSubscription(seeRegistrations, record), handleSubscription(seeMails, record)],
    })
    const quota = createService(quotaV1, {
      commands: [
        handleCommand(checkQuota, async ({ email }) => ({
          allowed: !email.startsWith('spam'),
          by: 'broker',
        })),
      ],
    })
    for (const service of [observer, quota]) await (await service.getInstance(broker)).start()
  })

  afterAll(async () => {
    await broker?.stop()
    await admin?.deleteNamespace(prefix)
    await admin?.close()
  })

  it('an emit from inside an HTTP-invoked command reaches a subscriber on the broker', async () => {
    const handler = createHttpHandler(userService, {
      outgoing: natsTransport(),
      auth: () => undefined,
      closeOnSigterm: false,
    })
    try {
      const result = await handler(fixture('api-gateway-v2'), lambdaContext())
      expect(result.statusCode).toBe(201)
      const { userId } = bodyOf(result)
      await expect
        .poll(() => seen.find((event) => event.payload.userId === userId), { timeout: 5_000 })
        .toEqual({
          eventName: 'user.registered',
          payload: { userId, name: 'Grace Hopper', email: 'grace@example.org' },
          sender: expect.objectContaining({ service: 'user', version: '1', name: 'registerUser' }),
          correlationId: 'http-api-request-1',
        })
    } finally {
      await handler.close()
    }
    expect(handler.runtime.bridge.outgoing.isReady()).toBe(false)
  })

  it("a command's invoke of another service goes over the broker and back", async () => {
    const handler = createHttpHandler(userService, {
      outgoing: natsTransport(),
      auth: () => undefined,
      closeOnSigterm: false,
    })
    try {
      const event = fixture('api-gateway-v2')
      event.rawPath = '/api/v1/user/quota-checked'
      event.requestContext.http.path = event.rawPath
      event.body = JSON.stringify({ email: 'ada@example.org' })
      delete event.headers['content-length']
      const result = await handler(event, lambdaContext())
      expect(result.statusCode).toBe(200)
      expect(bodyOf(result)).toEqual({ allowed: true, by: 'broker' })
    } finally {
      await handler.close()
    }
  })

  it('what a subscription emits while handling an SQS batch reaches the broker', async () => {
    const handler = createEventHandler(createMailerService([]), {
      outgoing: natsTransport(),
      closeOnSigterm: false,
    })
    try {
      const result = await handler(fixture<SQSEvent>('sqs-batch'), lambdaContext())
      expect(result.batchItemFailures).toHaveLength(1)
      await expect
        .poll(
          () =>
            seen
              .filter((event) => event.eventName === 'mail.sent')
              .map((event) => event.payload.userId)
              .sort(),
          { timeout: 5_000 },
        )
        .toEqual(['u-1', 'u-2', 'u-3'])
      expect(
        seen.find((event) => event.payload.userId === 'u-1' && event.eventName === 'mail.sent'),
      ).toMatchObject({
        sender: expect.objectContaining({ service: 'mailer', name: 'sendWelcome' }),
        correlationId: 'corr-envelope-1',
      })
    } finally {
      await handler.close()
    }
  })
})
