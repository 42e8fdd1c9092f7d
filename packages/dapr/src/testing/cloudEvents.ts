import { randomUUID } from 'node:crypto'

// What Dapr does to a message on publish (components-contrib `pubsub/envelope.go`): data is
// wrapped in a CloudEvent 1.0 unless it already is one (content type
// application/cloudevents+json), and either way the sidecar sets the tracing, topic and pub/sub
// attributes itself.

export const CLOUD_EVENT_CONTENT_TYPE = 'application/cloudevents+json'
const DEFAULT_SOURCE = 'Dapr'
const DEFAULT_TYPE = 'com.dapr.event.sent'

export interface PublishContext {
  topic: string
  pubsubName: string
  /** the `traceparent` / `tracestate` request headers ('' when absent, as Dapr does) */
  traceparent: string
  tracestate: string
  /** the publishing app's id: Dapr uses it as `source` of the events it wraps */
  source: string | undefined
}

function isJsonContentType(contentType: string): boolean {
  const base = contentType.split(';')[0]!.trim().toLowerCase()
  return base === 'application/json' || base.endsWith('+json')
}

function isTextContentType(contentType: string): boolean {
  const base = contentType.split(';')[0]!.trim().toLowerCase()
  return base.startsWith('text/') || base === 'application/xml' || base.endsWith('+xml')
}

function stampDaprAttributes(
  event: Record<string, unknown>,
  context: PublishContext,
): Record<string, unknown> {
  event.traceid = context.traceparent
  event.traceparent = context.traceparent
  event.tracestate = context.tracestate
  event.topic = context.topic
  event.pubsubname = context.pubsubName
  event.source ??= DEFAULT_SOURCE
  event.type ??= DEFAULT_TYPE
  event.specversion ??= '1.0'
  event.time ??= new Date().toISOString()
  return event
}

/** A CloudEvent the publisher sent itself; throws when the body is not a JSON object. */
export function fromPublishedCloudEvent(body: Buffer, context: PublishContext): Record<string, unknown> {
  const parsed = JSON.parse(body.toString('utf8')) as unknown
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error('the body is not a JSON object')
  }
  return stampDaprAttributes(parsed as Record<string, unknown>, context)
}

/** Plain data wrapped into a new CloudEvent. */
export function wrapInCloudEvent(
  body: Buffer,
  contentType: string,
  context: PublishContext,
): Record<string, unknown> {
  const event: Record<string, unknown> = {
    id: randomUUID(),
    specversion: '1.0',
    datacontenttype: contentType,
    source: context.source ?? DEFAULT_SOURCE,
    type: DEFAULT_TYPE,
  }
  if (isJsonContentType(contentType)) {
    try {
      event.data = JSON.parse(body.toString('utf8'))
    } catch {
      event.data = body.toString('utf8')
    }
  } else if (isTextContentType(contentType)) {
    event.data = body.toString('utf8')
  } else {
    event.data_base64 = body.toString('base64')
  }
  return stampDaprAttributes(event, context)
}

/**
 * What a subscription with `rawPayload` gets (components-contrib `FromRawPayload`): the broker
 * message as it is, base64 in `data_base64`, in a new CloudEvent with a random id.
 */
export function fromRawPayload(data: Uint8Array, topic: string, pubsubName: string): Record<string, unknown> {
  return {
    id: randomUUID(),
    specversion: '1.0',
    datacontenttype: 'application/octet-stream',
    source: DEFAULT_SOURCE,
    type: DEFAULT_TYPE,
    topic,
    pubsubname: pubsubName,
    data_base64: Buffer.from(data).toString('base64'),
  }
}
