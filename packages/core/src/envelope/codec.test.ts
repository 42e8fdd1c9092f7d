import { describe, expect, it } from 'vitest'
import { MalformedMessageError, PayloadTooLargeError } from '../errors/errors.js'
import { fromCloudEvent, toCloudEvent } from './cloudevents.js'
import { decodeEnvelope, ENVELOPE_LIMITS, encodeEnvelope } from './codec.js'
import type { Envelope } from './envelope.js'

const command: Envelope = {
  id: 'm1',
  type: 'command',
  specVersion: '1',
  time: 1_760_000_000_000,
  correlationId: 'c1',
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  sender: { service: 'user', version: '1', name: 'registerNewUser', instanceId: 'i1' },
  receiver: { service: 'email', version: '1', command: 'send' },
  principalId: 'alice',
  tenantId: 't1',
  deadline: 1_760_000_030_000,
  contentType: 'application/json',
  payload: { text: 'héllo 🚀' },
  parameter: { id: '7' },
  headers: { 'x-test': 'yes' },
}

describe('envelope codec', () => {
  it('accepts every field at its bound', () => {
    const atBounds: Envelope = {
      ...command,
      id: 'i'.repeat(ENVELOPE_LIMITS.id),
      correlationId: 'c'.repeat(ENVELOPE_LIMITS.correlationId),
      tracestate: 't'.repeat(ENVELOPE_LIMITS.tracestate),
      headers: Object.fromEntries(
        Array.from({ length: ENVELOPE_LIMITS.headerCount }, (_, i) => [`h${i}`, 'v'.repeat(100)]),
      ),
    }
    expect(decodeEnvelope(encodeEnvelope(atBounds))).toEqual(atBounds)
  })

  it('round trips every field', () => {
    expect(decodeEnvelope(encodeEnvelope(command))).toEqual(command)
  })

  it.each([
    [new Uint8Array([0xff, 0xfe]), /not valid UTF-8/],
    ['{"id": ', /not JSON/],
    ['[]', /envelope/],
    [JSON.stringify({ ...command, specVersion: '2' }), /specVersion/],
    [JSON.stringify({ ...command, id: undefined }), /^Malformed message: id/],
    [JSON.stringify({ ...command, receiver: undefined }), /command needs a receiver/],
    [JSON.stringify({ ...command, type: 'event' }), /event needs an event name/],
    [JSON.stringify({ ...command, deadline: 'soon' }), /deadline/],
    // every metadata field is bounded (ENVELOPE_LIMITS); an over-long one is refused by name
    [JSON.stringify({ ...command, correlationId: 'c'.repeat(600_000) }), /correlationId: Too big/],
    [JSON.stringify({ ...command, id: 'i'.repeat(129) }), /^Malformed message: id: Too big/],
    [
      JSON.stringify({ ...command, receiver: { ...command.receiver, command: 'x'.repeat(257) } }),
      /receiver.command/,
    ],
    [JSON.stringify({ ...command, tracestate: 't'.repeat(513) }), /tracestate/],
    [JSON.stringify({ ...command, principalId: 'p'.repeat(257) }), /principalId/],
    [JSON.stringify({ ...command, headers: { big: 'v'.repeat(4097) } }), /headers.big/],
    [
      JSON.stringify({
        ...command,
        headers: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`h${i}`, 'v'])),
      }),
      /at most 64 headers/,
    ],
  ])('rejects %s with a reason', (raw, reason) => {
    expect(() => decodeEnvelope(raw)).toThrow(MalformedMessageError)
    expect(() => decodeEnvelope(raw)).toThrow(reason)
  })

  it('a body that is not JSON is refused without quoting it (it is payload)', () => {
    const secret = 'card=4111111111111111'
    for (const body of [`{"payload": "${secret}" oops`, `${secret}{`, `{"a": 1, "b": ${secret}}`]) {
      let message = ''
      try {
        decodeEnvelope(body)
      } catch (error) {
        message = (error as Error).message
      }
      expect(message).toMatch(/^Malformed message: not JSON \(\d+ characters/)
      expect(message).not.toContain('4111')
    }
  })

  it('refuses to encode past the limit, naming it', () => {
    expect(() => encodeEnvelope(command, 100, 'nats')).toThrow(PayloadTooLargeError)
    expect(() => encodeEnvelope(command, 100, 'nats')).toThrow(/nats limit of 100 bytes/)
  })
})

describe('CloudEvents 1.0 mapping', () => {
  it('maps an event envelope to standard attributes and back', () => {
    const event: Envelope = { ...command, type: 'event', eventName: 'user.registered' }
    delete event.receiver
    delete event.deadline
    const cloudEvent = toCloudEvent(event)
    expect(cloudEvent).toMatchObject({
      specversion: '1.0',
      id: 'm1',
      type: 'user.registered',
      source: 'conduit://user/v1/registerNewUser',
      time: new Date(event.time).toISOString(),
      datacontenttype: 'application/json',
      data: event.payload,
      traceparent: event.traceparent,
      principalid: 'alice',
      tenantid: 't1',
    })
    expect(fromCloudEvent(JSON.parse(JSON.stringify(cloudEvent)))).toEqual(event)
  })

  it('reads a foreign CloudEvent as an event named after its type', () => {
    const envelope = fromCloudEvent({
      specversion: '1.0',
      id: 'ext-1',
      source: 'urn:billing',
      type: 'invoice.paid',
      time: '2026-01-01T00:00:00Z',
      data: { amount: 3 },
    })
    expect(envelope).toMatchObject({ type: 'event', eventName: 'invoice.paid', payload: { amount: 3 } })
    expect(envelope.sender.instanceId).toBe('urn:billing')
  })
})
