import { readFile } from 'node:fs/promises'
import { Parser } from '@asyncapi/parser'
import { AmqpBridge } from '@conduit/amqp'
import { defineEvent, defineService, type EventBridge, MemoryBridge } from '@conduit/core'
import { DaprBridge } from '@conduit/dapr'
import { emailV1 } from '@conduit/example-monolith/email/definition'
import { userRegistered, userV1 } from '@conduit/example-monolith/user/definition'
import { MqttBridge } from '@conduit/mqtt'
import { NatsBridge } from '@conduit/nats'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { type AsyncApiDocument, generateAsyncApi } from '../src/index.js'

const services = [userV1, emailV1]
const registerAddress = { service: 'user', version: '1', command: 'registerNewUser' }

/** The broker's real names for user.registered and user v1 registerNewUser, as each bridge documents them. */
const bridges: { bridge: EventBridge; event: string; command: string }[] = [
  { bridge: new MemoryBridge(), event: 'user.registered', command: 'user.v1.registerNewUser' },
  {
    bridge: new NatsBridge(),
    event: 'conduit.evt.user.registered',
    command: 'conduit.cmd.user.v1.registerNewUser',
  },
  {
    bridge: new NatsBridge({ prefix: 'shop' }),
    event: 'shop.evt.user.registered',
    command: 'shop.cmd.user.v1.registerNewUser',
  },
  {
    bridge: new AmqpBridge(),
    event: 'conduit.events:user.registered',
    command: 'conduit.cmd.user.v1.registerNewUser',
  },
  {
    bridge: new MqttBridge(),
    event: 'conduit/event/user/registered',
    command: 'conduit/cmd/user/1/registerNewUser',
  },
  // Dapr: the pub/sub topic, and the invoked app and method
  {
    bridge: new DaprBridge({ topicPrefix: 'shop.' }),
    event: 'shop.user.registered',
    command: 'user-v1/conduit/command/user/1/registerNewUser',
  },
]

async function parse(document: AsyncApiDocument) {
  const parsed = await new Parser().parse(structuredClone(document) as never)
  const errors = parsed.diagnostics.filter((diagnostic) => diagnostic.severity === 0)
  expect(errors.map((error) => `${error.path.join('/')}: ${error.message}`)).toEqual([])
  return parsed.document!
}

describe.each(bridges)('the microservices example on $bridge.name', ({ bridge, event, command }) => {
  const document = generateAsyncApi({ services, events: [userRegistered], bridge })

  it('is a valid AsyncAPI 3.0 document according to @asyncapi/parser', async () => {
    const parsed = await parse(document)
    expect(parsed.version()).toBe('3.0.0')
  })

  it("puts events and commands at the bridge's real destinations", async () => {
    const parsed = await parse(document)
    const addresses = parsed
      .channels()
      .all()
      .map((channel) => channel.address())
    expect(addresses).toContain(event)
    expect(addresses).toContain(command)
    expect(event).toBe(bridge.destinationName({ kind: 'event', eventName: 'user.registered' }))
    expect(command).toBe(bridge.destinationName({ kind: 'command', address: registerAddress }))
  })

  it('makes each command a request/reply operation and each subscription a receive operation', async () => {
    const parsed = await parse(document)
    const register = parsed.operations().get('user_v1_registerNewUser')!
    expect(register.action()).toBe('send')
    expect(register.channels().all()[0]!.address()).toBe(command)
    const reply = register.reply()!
    expect(
      reply
        .messages()
        .all()
        .map((message) => message.name()),
    ).toEqual(['user_v1_registerNewUser.response', 'user_v1_registerNewUser.error'])
    const welcome = parsed.operations().get('email_v1_sendWelcomeMail')!
    expect(welcome.action()).toBe('receive')
    expect(welcome.channels().all()[0]!.address()).toBe(event)
    expect(document.operations.email_v1_sendWelcomeMail!['x-conduit-subscription']).toMatchObject({
      delivery: 'durable',
      maxAttempts: 5,
      consumerGroup: 'email.v1.sendWelcomeMail',
      requires: ['durable'],
    })
  })

  it("takes payloads from the zod schemas and documents the metadata in the bridge's wire form", async () => {
    const parsed = await parse(document)
    const message = parsed
      .messages()
      .all()
      .find((candidate) => candidate.name() === 'user.registered')!
    const payload = JSON.stringify(message.payload()!.json())
    expect(payload).toContain('"format":"email"')
    const cloudEvents = bridge.name === 'dapr'
    expect(message.contentType()).toBe(cloudEvents ? 'application/cloudevents+json' : 'application/json')
    expect(message.correlationId()!.location()).toBe(
      cloudEvents ? '$message.payload#/correlationid' : '$message.payload#/correlationId',
    )
    // the metadata fields, with the codec's bounds
    const envelope = document.components.schemas.ConduitEnvelope as { properties: Record<string, any> }
    expect(envelope.properties.traceparent.maxLength).toBe(128)
    expect(Object.keys(envelope.properties)).toEqual(
      expect.arrayContaining([
        'id',
        'correlationId',
        'tracestate',
        'sender',
        'deadline',
        'principalId',
        'tenantId',
      ]),
    )
  })
})

describe('generateAsyncApi', () => {
  it('gives a wildcard subscription one receive operation per event it matches, and a pattern channel when none', async () => {
    const placed = defineEvent('order.placed', z.object({ orderId: z.string() }))
    const shipped = defineEvent('order.shipped', z.object({ orderId: z.string(), at: z.date() }))
    const audit = defineService({ name: 'audit', version: '2' })
    audit.subscription('orders', { event: 'order.*', everyInstance: true })
    audit.subscription('payments', { event: 'payment.#' })
    const document = generateAsyncApi({
      services: [audit],
      events: [placed, shipped],
      bridge: new NatsBridge(),
    })
    await parse(document)
    expect(Object.keys(document.operations).sort()).toEqual([
      'audit_v2_orders_order.placed',
      'audit_v2_orders_order.shipped',
      'audit_v2_payments',
    ])
    expect(document.channels['pattern_payment.-']).toMatchObject({ address: null })
  })

  it('hoists schemas zod extracts (ids, cycles) into components, so every $ref resolves', async () => {
    const money = z.object({ amount: z.number(), currency: z.string() }).meta({ id: 'Money' })
    type Category = { name: string; children: Category[] }
    const category: z.ZodType<Category> = z.object({
      name: z.string(),
      children: z.array(z.lazy(() => category)),
    })
    const priced = defineEvent('item.priced', z.object({ price: money, was: money.optional(), category }))
    const document = generateAsyncApi({ services: [], events: [priced], bridge: new MemoryBridge() })
    await parse(document)
    expect(document.components.schemas.Money).toMatchObject({ type: 'object' })
    expect(JSON.stringify(document)).not.toContain('#/definitions/')
  })

  it('is what docs/asyncapi/microservices.nats.json holds (regenerate it with the CLI when this fails)', async () => {
    const committed = JSON.parse(
      await readFile(new URL('../../../docs/asyncapi/microservices.nats.json', import.meta.url), 'utf8'),
    )
    expect(committed).toEqual(
      JSON.parse(
        JSON.stringify(generateAsyncApi({ services, events: [userRegistered], bridge: new NatsBridge() })),
      ),
    )
  })
})
