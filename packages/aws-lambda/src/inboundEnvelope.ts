import {
  assertEventName,
  type Envelope,
  JSON_CONTENT_TYPE,
  MalformedMessageError,
  SPEC_VERSION,
} from '@conduit/core'
import { fromCloudEvent, validateEnvelope } from '@conduit/core/transport'

/** What the AWS record says about a message, used when the message is a bare payload. */
export interface RecordOrigin {
  /** the record's id (SQS messageId, SNS MessageId, EventBridge id): the envelope id */
  id: string
  /** the producer as AWS names it (queue or topic ARN, EventBridge source): the sender */
  source: string
  /** epoch ms the message was sent */
  time?: number | undefined
  /** the event name the record carries (message attribute, EventBridge detail-type) */
  eventName?: string | undefined
  traceparent?: string | undefined
  tracestate?: string | undefined
}

/** How bare payloads get their event name. */
export interface EventNaming {
  /** the message attribute (SQS, SNS) naming the event; default `eventName` */
  attribute: string
  /** the event name of bare payloads whose record names none (or no valid one) */
  fallback?: string | undefined
}

export const DEFAULT_EVENT_NAME_ATTRIBUTE = 'eventName'

/**
 * Reads a record body (SQS body, SNS Message) as an event envelope. See `envelopeFromValue`
 * for what the parsed JSON may be. Throws MalformedMessageError with the reason.
 */
export function envelopeFromBody(body: string, origin: RecordOrigin, naming: EventNaming): Envelope {
  let value: unknown
  try {
    value = JSON.parse(body)
  } catch (error) {
    // V8's message quotes the text around the fault, which is payload: keep only where it is
    const position = /position (\d+)/.exec((error as Error).message)?.[1]
    throw new MalformedMessageError(
      `body is not JSON (${body.length} characters${position === undefined ? '' : `, invalid at position ${position}`})`,
    )
  }
  return envelopeFromValue(value, origin, naming)
}

/**
 * The source → envelope mapping, in this order:
 * 1. a Conduit envelope (`specVersion`, `type`, `sender`): validated and used as is;
 * 2. a CloudEvent (`specversion`): `fromCloudEvent`;
 * 3. an EventBridge event (`detail-type`, `detail`), e.g. a rule's SQS target: `detail` is read
 *    by these same rules, with `detail-type` as the event name;
 * 4. an SNS notification (`Type: Notification`, `Message`), e.g. SNS to SQS without raw
 *    delivery: `Message` is read by these same rules;
 * 5. anything else is a bare payload, named by the record (`origin.eventName`) when that is a
 *    valid event name, else by `naming.fallback`.
 */
export function envelopeFromValue(value: unknown, origin: RecordOrigin, naming: EventNaming): Envelope {
  if (isObject(value)) {
    if ('specVersion' in value && 'type' in value && 'sender' in value) {
      return expectEvent(validateEnvelope(value))
    }
    if (typeof value.specversion === 'string') return expectEvent(readCloudEvent(value))
    if (typeof value['detail-type'] === 'string' && 'detail' in value) {
      return envelopeFromValue(value.detail, eventBridgeOrigin(value, origin), naming)
    }
    if (value.Type === 'Notification' && typeof value.Message === 'string') {
      return envelopeFromBody(value.Message, snsNotificationOrigin(value, origin, naming), naming)
    }
  }
  return bareEnvelope(value, origin, naming)
}

function bareEnvelope(payload: unknown, origin: RecordOrigin, naming: EventNaming): Envelope {
  const eventName = isEventName(origin.eventName) ? origin.eventName : naming.fallback
  if (eventName === undefined) {
    throw new MalformedMessageError(
      origin.eventName === undefined
        ? 'a bare payload without an event name (set the eventName message attribute or the handler option)'
        : `${JSON.stringify(origin.eventName)} is not an event name and no eventName option is set`,
    )
  }
  const envelope: Envelope = {
    id: origin.id,
    type: 'event',
    specVersion: SPEC_VERSION,
    time: origin.time ?? Date.now(),
    correlationId: origin.id,
    sender: { instanceId: origin.source },
    eventName,
    contentType: JSON_CONTENT_TYPE,
    payload,
  }
  if (origin.traceparent !== undefined) envelope.traceparent = origin.traceparent
  if (origin.tracestate !== undefined) envelope.tracestate = origin.tracestate
  return validateEnvelope(envelope)
}

function expectEvent(envelope: Envelope): Envelope {
  if (envelope.type !== 'event') throw new MalformedMessageError(`expected an event, got a ${envelope.type}`)
  return envelope
}

function readCloudEvent(value: Record<string, unknown>): Envelope {
  try {
    return fromCloudEvent(value)
  } catch (error) {
    if (error instanceof MalformedMessageError) throw error
    // A JSON-typed extension attribute that does not parse.
    throw new MalformedMessageError(`CloudEvent: ${(error as Error).message}`)
  }
}

function eventBridgeOrigin(event: Record<string, unknown>, outer: RecordOrigin): RecordOrigin {
  return {
    id: typeof event.id === 'string' && event.id !== '' ? event.id : outer.id,
    source: typeof event.source === 'string' && event.source !== '' ? event.source : outer.source,
    time: typeof event.time === 'string' ? Date.parse(event.time) || outer.time : outer.time,
    eventName: event['detail-type'] as string,
    traceparent: outer.traceparent,
    tracestate: outer.tracestate,
  }
}

function snsNotificationOrigin(
  notification: Record<string, unknown>,
  outer: RecordOrigin,
  naming: EventNaming,
): RecordOrigin {
  const attributes = isObject(notification.MessageAttributes) ? notification.MessageAttributes : {}
  const attribute = (name: string) => {
    const entry = attributes[name]
    return isObject(entry) && typeof entry.Value === 'string' ? entry.Value : undefined
  }
  return {
    id: typeof notification.MessageId === 'string' ? notification.MessageId : outer.id,
    source: typeof notification.TopicArn === 'string' ? notification.TopicArn : outer.source,
    time: typeof notification.Timestamp === 'string' ? Date.parse(notification.Timestamp) : outer.time,
    eventName: attribute(naming.attribute) ?? outer.eventName,
    traceparent: attribute('traceparent') ?? outer.traceparent,
    tracestate: attribute('tracestate') ?? outer.tracestate,
  }
}

function isEventName(name: string | undefined): name is string {
  if (name === undefined) return false
  try {
    assertEventName(name)
    return true
  } catch {
    return false
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
