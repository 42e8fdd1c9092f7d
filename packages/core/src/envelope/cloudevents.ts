import { validateEnvelope } from './codec.js'
import type { Envelope } from './envelope.js'

/**
 * CloudEvents 1.0 (structured JSON mode) view of an envelope. Standard attributes carry what
 * they can; the rest travels as extension attributes (lower-case alphanumerics, per the spec).
 */
export interface CloudEvent {
  specversion: '1.0'
  id: string
  source: string
  type: string
  time: string
  datacontenttype: string
  data: unknown
  subject?: string
  traceparent?: string
  tracestate?: string
  correlationid: string
  inreplyto?: string
  conduittype: Envelope['type']
  conduitspec: string
  conduitsender: string
  conduitreceiver?: string
  principalid?: string
  tenantid?: string
  deadline?: string
  conduitparameter?: string
  conduitheaders?: string
}

/** `conduit://user/v1/registerNewUser` style source. */
function senderSource(envelope: Envelope): string {
  const { service, version, name } = envelope.sender
  if (!service) return 'conduit://client'
  return `conduit://${service}/v${version ?? ''}${name ? `/${name}` : ''}`
}

export function toCloudEvent(envelope: Envelope): CloudEvent {
  const event: CloudEvent = {
    specversion: '1.0',
    id: envelope.id,
    source: senderSource(envelope),
    type:
      envelope.eventName ??
      (envelope.receiver ? `conduit.command.${envelope.receiver.command}` : 'conduit.message'),
    time: new Date(envelope.time).toISOString(),
    datacontenttype: envelope.contentType,
    data: envelope.payload,
    correlationid: envelope.correlationId,
    conduittype: envelope.type,
    conduitspec: envelope.specVersion,
    conduitsender: JSON.stringify(envelope.sender),
  }
  if (envelope.receiver) event.conduitreceiver = JSON.stringify(envelope.receiver)
  if (envelope.inReplyTo) event.inreplyto = envelope.inReplyTo
  if (envelope.traceparent) event.traceparent = envelope.traceparent
  if (envelope.tracestate) event.tracestate = envelope.tracestate
  if (envelope.principalId !== undefined) event.principalid = envelope.principalId
  if (envelope.tenantId !== undefined) event.tenantid = envelope.tenantId
  if (envelope.deadline !== undefined) event.deadline = String(envelope.deadline)
  if (envelope.parameter) event.conduitparameter = JSON.stringify(envelope.parameter)
  if (envelope.headers) event.conduitheaders = JSON.stringify(envelope.headers)
  return event
}

function parseJsonAttribute(value: unknown): unknown {
  return typeof value === 'string' ? JSON.parse(value) : undefined
}

/**
 * Reads a CloudEvent produced by Conduit or by any other CloudEvents producer. A foreign event
 * (no conduit attributes) becomes an event envelope named after its `type`, sent by `source`.
 */
export function fromCloudEvent(event: Record<string, unknown>): Envelope {
  const sender = parseJsonAttribute(event.conduitsender) ?? {
    instanceId: typeof event.source === 'string' ? event.source : 'external',
  }
  const candidate: Record<string, unknown> = {
    id: event.id,
    type: event.conduittype ?? 'event',
    specVersion: event.conduitspec ?? '1',
    time: typeof event.time === 'string' ? Date.parse(event.time) : Date.now(),
    correlationId: event.correlationid ?? event.id,
    sender,
    contentType: event.datacontenttype ?? 'application/json',
    payload: event.data,
  }
  if ((event.conduittype ?? 'event') === 'event') candidate.eventName = event.type
  if (typeof event.inreplyto === 'string') candidate.inReplyTo = event.inreplyto
  const receiver = parseJsonAttribute(event.conduitreceiver)
  if (receiver) candidate.receiver = receiver
  if (event.traceparent) candidate.traceparent = event.traceparent
  if (event.tracestate) candidate.tracestate = event.tracestate
  if (event.principalid !== undefined) candidate.principalId = event.principalid
  if (event.tenantid !== undefined) candidate.tenantId = event.tenantid
  if (event.deadline !== undefined) candidate.deadline = Number(event.deadline)
  const parameter = parseJsonAttribute(event.conduitparameter)
  if (parameter) candidate.parameter = parameter
  const headers = parseJsonAttribute(event.conduitheaders)
  if (headers) candidate.headers = headers
  return validateEnvelope(candidate)
}
