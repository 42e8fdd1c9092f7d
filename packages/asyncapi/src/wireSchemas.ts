import { ENVELOPE_LIMITS } from '@conduit/core/transport'

/*
 * JSON Schemas (draft-07, the AsyncAPI default schema format) of what Conduit puts on the wire
 * around a payload: the envelope (docs/wire-format.md), its CloudEvents 1.0 form (Dapr events)
 * and the error payload. They are registered once under components and referenced by messages.
 */

export type JsonSchema = Record<string, unknown>

const L = ENVELOPE_LIMITS
const text = (maxLength: number, description: string, minLength = 0): JsonSchema => ({
  type: 'string',
  ...(minLength > 0 ? { minLength } : {}),
  maxLength,
  description,
})

export const ENVELOPE_SCHEMA = 'ConduitEnvelope'
export const CLOUD_EVENT_SCHEMA = 'ConduitCloudEvent'
export const ERROR_SCHEMA = 'ConduitError'
export const ENVELOPE_TRAIT = 'conduitEnvelope'
export const CLOUD_EVENT_TRAIT = 'cloudEvent'

export const schemaRef = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` })

const senderSchema: JsonSchema = {
  type: 'object',
  description: 'Who sent the message',
  required: ['instanceId'],
  properties: {
    instanceId: text(L.id, 'the sending bridge instance; replies are routed to it', 1),
    service: text(L.name, 'the sending service, when a handler sent it'),
    version: text(L.name, "that service's version"),
    name: text(L.name, 'the command or subscription that sent it'),
  },
}

const receiverSchema: JsonSchema = {
  type: 'object',
  description: 'Where a command goes',
  required: ['service', 'version', 'command'],
  properties: {
    service: text(L.name, 'target service'),
    version: text(L.name, 'target version'),
    command: text(L.name, 'target command'),
    instanceId: text(L.id, 'a specific instance (accepted, not set by the core today)', 1),
  },
}

const envelopeSchema: JsonSchema = {
  type: 'object',
  description: 'Conduit wire format v1: every command, response, error and event is one such JSON object',
  required: ['id', 'type', 'specVersion', 'time', 'correlationId', 'sender', 'contentType'],
  properties: {
    id: text(L.id, 'unique id of this message (a random UUID)', 1),
    type: {
      type: 'string',
      enum: ['command', 'response', 'error', 'event'],
      description: 'what the message is',
    },
    specVersion: { type: 'string', const: '1', description: 'the wire format version' },
    time: { type: 'number', description: 'when the message was created, epoch milliseconds' },
    correlationId: text(L.correlationId, 'groups the messages of one conversation', 1),
    inReplyTo: text(L.id, 'responses and errors: the id of the command answered', 1),
    traceparent: text(L.traceparent, 'W3C trace context of the sending span'),
    tracestate: text(L.tracestate, 'W3C trace state, passed along unchanged'),
    sender: senderSchema,
    receiver: receiverSchema,
    eventName: text(L.name, "events: the event's name"),
    principalId: text(L.principal, 'the authenticated caller, passed on to what handlers invoke and emit'),
    tenantId: text(L.principal, 'the tenant, passed on like principalId'),
    deadline: { type: 'number', description: 'commands: absolute epoch ms after which it must not run' },
    contentType: text(L.contentType, "the payload's media type (application/json)"),
    payload: { description: 'command: the input; response: the output; error: the error; event: the event' },
    parameter: {
      type: 'object',
      maxProperties: L.parameterCount,
      description: 'commands: path and query values (from HTTP)',
    },
    headers: {
      type: 'object',
      maxProperties: L.headerCount,
      additionalProperties: { type: 'string', maxLength: L.headerValue },
      description: 'free headers from the caller',
    },
  },
}

/** The CloudEvents 1.0 structured form of an envelope (envelope/cloudevents.ts). */
const cloudEventSchema: JsonSchema = {
  type: 'object',
  description: 'CloudEvents 1.0 (structured JSON mode) form of a Conduit envelope; docs/wire-format.md',
  required: ['specversion', 'id', 'source', 'type', 'time', 'datacontenttype', 'correlationid'],
  properties: {
    specversion: { type: 'string', const: '1.0' },
    id: text(L.id, 'the envelope id', 1),
    source: { type: 'string', description: 'conduit://<service>/v<version>[/<name>], or conduit://client' },
    type: { type: 'string', description: 'the event name' },
    time: { type: 'string', format: 'date-time', description: 'the envelope time, ISO 8601' },
    datacontenttype: text(L.contentType, 'the envelope contentType'),
    data: { description: 'the envelope payload' },
    traceparent: text(L.traceparent, 'W3C trace context'),
    tracestate: text(L.tracestate, 'W3C trace state'),
    correlationid: text(L.correlationId, 'the envelope correlationId', 1),
    inreplyto: text(L.id, 'the envelope inReplyTo'),
    conduittype: { type: 'string', enum: ['command', 'response', 'error', 'event'] },
    conduitspec: { type: 'string', description: 'the envelope specVersion' },
    conduitsender: { type: 'string', description: 'the envelope sender, as a JSON string' },
    conduitreceiver: { type: 'string', description: 'the envelope receiver, as a JSON string' },
    principalid: text(L.principal, 'the envelope principalId'),
    tenantid: text(L.principal, 'the envelope tenantId'),
    deadline: { type: 'string', description: 'the envelope deadline, epoch ms as a decimal string' },
    conduitparameter: { type: 'string', description: 'the envelope parameter, as a JSON string' },
    conduitheaders: { type: 'string', description: 'the envelope headers, as a JSON string' },
  },
}

/** The payload of an envelope of type `error` (errors/wire.ts). */
const errorSchema: JsonSchema = {
  type: 'object',
  description: 'An error as data: the status, code and message survive the wire; no stack traces',
  required: ['status', 'code', 'message', 'retryable'],
  properties: {
    status: {
      type: 'integer',
      description: 'HTTP-style status: 400 validation, 404, 409, 500, 503, 504, ...',
    },
    code: { type: 'string', description: 'machine-readable code, e.g. VALIDATION_FAILED' },
    message: { type: 'string' },
    retryable: { type: 'boolean' },
    data: { description: 'what the handler attached (HandledError data, validation issues)' },
    correlationId: { type: 'string' },
  },
}

export function wireSchemas(): Record<string, JsonSchema> {
  return {
    [ENVELOPE_SCHEMA]: envelopeSchema,
    [CLOUD_EVENT_SCHEMA]: cloudEventSchema,
    [ERROR_SCHEMA]: errorSchema,
  }
}

/** The message traits that say how metadata rides with each message. */
export function wireTraits(): Record<string, JsonSchema> {
  return {
    [ENVELOPE_TRAIT]: {
      name: 'conduit-envelope',
      title: 'Conduit envelope (wire format v1)',
      summary: 'The payload is the whole envelope: metadata beside the payload, one JSON object',
      description:
        'Metadata travels inside the message body, not in broker headers: id, type, specVersion, time, ' +
        'correlationId, inReplyTo, traceparent/tracestate (W3C), sender, receiver (commands), eventName ' +
        '(events), principalId, tenantId, deadline (commands, epoch ms), contentType, parameter and free ' +
        'headers. Bounds per field are in the ConduitEnvelope schema (ENVELOPE_LIMITS). See docs/wire-format.md.',
      contentType: 'application/json',
      correlationId: {
        description: 'Conduit correlation id (a reply also names its command in inReplyTo)',
        location: '$message.payload#/correlationId',
      },
    },
    [CLOUD_EVENT_TRAIT]: {
      name: 'cloudevents',
      title: 'CloudEvents 1.0, structured mode',
      summary: 'The envelope mapped to CloudEvents attributes, the payload in data',
      description:
        'Standard attributes: specversion, id, source (conduit://service/vN/name), type (event name), time, ' +
        'datacontenttype, data, traceparent, tracestate. Extensions: correlationid, inreplyto, conduittype, ' +
        'conduitspec, conduitsender, conduitreceiver, principalid, tenantid, deadline, conduitparameter, ' +
        'conduitheaders. See docs/wire-format.md#cloudevents-10-mapping.',
      contentType: 'application/cloudevents+json',
      correlationId: {
        description: 'Conduit correlation id as a CloudEvents extension',
        location: '$message.payload#/correlationid',
      },
    },
  }
}

/** An envelope whose fixed fields are pinned and whose payload is `payload`. */
export function envelopeOf(
  fixed: JsonSchema,
  required: string[],
  payload: JsonSchema | undefined,
): JsonSchema {
  return {
    allOf: [
      schemaRef(ENVELOPE_SCHEMA),
      {
        type: 'object',
        required,
        properties: { ...fixed, ...(payload ? { payload } : {}) },
      },
    ],
  }
}

/** A CloudEvent of the event `name` whose data is `data`. */
export function cloudEventOf(name: string, data: JsonSchema): JsonSchema {
  return {
    allOf: [
      schemaRef(CLOUD_EVENT_SCHEMA),
      { type: 'object', properties: { type: { const: name }, conduittype: { const: 'event' }, data } },
    ],
  }
}
