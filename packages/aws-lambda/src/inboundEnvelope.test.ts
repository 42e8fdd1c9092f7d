import { toCloudEvent } from '@conduit/core/transport'
import { describe, expect, it } from 'vitest'
import {
  type EventNaming,
  envelopeFromBody,
  envelopeFromValue,
  type RecordOrigin,
} from './inboundEnvelope.js'

const origin: RecordOrigin = {
  id: 'msg-1',
  source: 'arn:aws:sqs:us-east-1:123456789012:q',
  time: 1_700_000_000_000,
}
const naming: EventNaming = { attribute: 'eventName' }
const envelope = {
  id: 'e-1',
  type: 'event',
  specVersion: '1',
  time: 1,
  correlationId: 'c-1',
  sender: { service: 'user', version: '1', instanceId: 'i-1' },
  eventName: 'user.registered',
  contentType: 'application/json',
  payload: { userId: 'u-1' },
} as const

describe('the source → envelope mapping', () => {
  it('takes a Conduit envelope as is, and refuses one that is not an event', () => {
    expect(envelopeFromValue(envelope, origin, naming)).toEqual(envelope)
    expect(() => envelopeFromValue({ ...envelope, type: 'response' }, origin, naming)).toThrow(
      'Malformed message: expected an event, got a response',
    )
    expect(() => envelopeFromValue({ ...envelope, correlationId: '' }, origin, naming)).toThrow(
      /correlationId/,
    )
  })

  it('reads Conduit and foreign CloudEvents', () => {
    expect(envelopeFromValue(toCloudEvent(envelope), origin, naming)).toMatchObject({
      id: 'e-1',
      correlationId: 'c-1',
      sender: envelope.sender,
      payload: envelope.payload,
    })
    const foreign = { specversion: '1.0', id: 'x', source: 'urn:shop', type: 'order.placed', data: { id: 7 } }
    expect(envelopeFromValue(foreign, origin, naming)).toMatchObject({
      eventName: 'order.placed',
      correlationId: 'x',
      sender: { instanceId: 'urn:shop' },
      payload: { id: 7 },
    })
    expect(() => envelopeFromValue({ ...foreign, conduitsender: '{nope' }, origin, naming)).toThrow(
      /CloudEvent/,
    )
  })

  it('builds an envelope around a bare payload named by the record, else by the fallback', () => {
    const named = envelopeFromValue(
      { a: 1 },
      { ...origin, eventName: 'thing.happened', traceparent: 'tp' },
      naming,
    )
    expect(named).toEqual({
      id: 'msg-1',
      type: 'event',
      specVersion: '1',
      time: 1_700_000_000_000,
      correlationId: 'msg-1',
      sender: { instanceId: origin.source },
      eventName: 'thing.happened',
      contentType: 'application/json',
      payload: { a: 1 },
      traceparent: 'tp',
    })
    expect(envelopeFromValue([1, 2], origin, { ...naming, fallback: 'list.made' })).toMatchObject({
      eventName: 'list.made',
      payload: [1, 2],
    })
    expect(() => envelopeFromValue({ a: 1 }, origin, naming)).toThrow(/without an event name/)
  })

  it('unwraps EventBridge events and SNS notifications, keeping their ids and names', () => {
    const ruleEvent = {
      id: 'eb-1',
      'detail-type': 'user.registered',
      source: 'conduit.user',
      detail: { a: 1 },
    }
    expect(envelopeFromValue(ruleEvent, origin, naming)).toMatchObject({
      id: 'eb-1',
      eventName: 'user.registered',
      sender: { instanceId: 'conduit.user' },
      payload: { a: 1 },
    })
    const notification = {
      Type: 'Notification',
      MessageId: 'sns-1',
      TopicArn: 'arn:aws:sns:us-east-1:123456789012:t',
      Message: JSON.stringify(envelope),
    }
    expect(envelopeFromBody(JSON.stringify(notification), origin, naming)).toEqual(envelope)
  })

  it('says why a body cannot be read', () => {
    expect(() => envelopeFromBody('{"a":', origin, naming)).toThrow(/^Malformed message: body is not JSON/)
    // the message never quotes the body (payload would reach the logs)
    expect(() => envelopeFromBody('card=4111111111111111', origin, naming)).toThrow(
      /^Malformed message: body is not JSON \(\d+ characters[^4]*\)$/,
    )
  })
})
