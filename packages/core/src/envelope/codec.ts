import { z } from 'zod'
import { MalformedMessageError, PayloadTooLargeError } from '../errors/errors.js'
import { type Envelope, SPEC_VERSION } from './envelope.js'

/**
 * Bounds on every metadata field (documented in docs/wire-format.md). A message over one is
 * refused before anything else reads it, so a hostile sender cannot make a reply, a log line
 * or a dead letter larger than the bus allows.
 */
export const ENVELOPE_LIMITS = Object.freeze({
  /** id, inReplyTo, instance ids */
  id: 128,
  correlationId: 256,
  /** service, version, command, subscription and event names */
  name: 256,
  traceparent: 128,
  tracestate: 512,
  /** principalId, tenantId */
  principal: 256,
  contentType: 128,
  headerCount: 64,
  headerName: 128,
  headerValue: 4096,
  parameterCount: 64,
})

const L = ENVELOPE_LIMITS
const name = () => z.string().max(L.name)

const senderSchema = z.object({
  service: name().optional(),
  version: name().optional(),
  name: name().optional(),
  instanceId: z.string().min(1).max(L.id),
})

const envelopeSchema = z.object({
  id: z.string().min(1).max(L.id),
  type: z.enum(['command', 'response', 'error', 'event']),
  specVersion: z.literal(SPEC_VERSION),
  time: z.number().finite(),
  correlationId: z.string().min(1).max(L.correlationId),
  inReplyTo: z.string().min(1).max(L.id).optional(),
  traceparent: z.string().max(L.traceparent).optional(),
  tracestate: z.string().max(L.tracestate).optional(),
  sender: senderSchema,
  receiver: z
    .object({
      service: name(),
      version: name(),
      command: name(),
      instanceId: z.string().max(L.id).optional(),
    })
    .optional(),
  eventName: name().optional(),
  principalId: z.string().max(L.principal).optional(),
  tenantId: z.string().max(L.principal).optional(),
  deadline: z.number().finite().optional(),
  contentType: z.string().max(L.contentType),
  payload: z.unknown(),
  parameter: z
    .record(z.string().max(L.name), z.unknown())
    .refine((value) => Object.keys(value).length <= L.parameterCount, {
      message: `at most ${L.parameterCount} parameters`,
    })
    .optional(),
  headers: z
    .record(z.string().max(L.headerName), z.string().max(L.headerValue))
    .refine((value) => Object.keys(value).length <= L.headerCount, {
      message: `at most ${L.headerCount} headers`,
    })
    .optional(),
})

const decoder = new TextDecoder('utf-8', { fatal: true })

/** JSON-encodes an envelope, refusing one larger than the transport can carry. */
export function encodeEnvelope(
  envelope: Envelope,
  maxBytes = Number.POSITIVE_INFINITY,
  bridge = 'bridge',
): Uint8Array {
  // Buffer.from is several times faster than TextEncoder here, and a Buffer is a Uint8Array.
  const bytes = Buffer.from(JSON.stringify(envelope), 'utf8')
  if (bytes.byteLength > maxBytes) throw new PayloadTooLargeError(bytes.byteLength, maxBytes, bridge)
  return bytes
}

const TYPES = new Set(['command', 'response', 'error', 'event'])
const isString = (value: unknown): value is string => typeof value === 'string'
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
const optional = (value: unknown, check: (value: unknown) => boolean) => value === undefined || check(value)
const isNonEmpty = (value: unknown) => isString(value) && value.length > 0
const upTo = (max: number) => (value: unknown) => isString(value) && value.length <= max
const isId = (value: unknown) => isNonEmpty(value) && (value as string).length <= L.id
const isName = upTo(L.name)
const isFiniteNumber = (value: unknown) => typeof value === 'number' && Number.isFinite(value)
function isHeaders(value: unknown): boolean {
  if (!isObject(value)) return false
  let count = 0
  for (const key in value) {
    const header = value[key]
    if (++count > L.headerCount || key.length > L.headerName) return false
    if (!isString(header) || header.length > L.headerValue) return false
  }
  return true
}
function isParameter(value: unknown): boolean {
  if (!isObject(value)) return false
  let count = 0
  for (const key in value) if (++count > L.parameterCount || key.length > L.name) return false
  return true
}

/**
 * The same rules as `envelopeSchema`, checked by hand: this runs on every message a network
 * bridge receives, and is several times cheaper than a zod parse. zod runs only when this
 * check fails, to say precisely what is wrong.
 */
function isEnvelope(value: unknown): value is Envelope {
  if (!isObject(value)) return false
  const { sender, receiver } = value
  return (
    isId(value.id) &&
    TYPES.has(value.type as string) &&
    value.specVersion === SPEC_VERSION &&
    isFiniteNumber(value.time) &&
    isNonEmpty(value.correlationId) &&
    (value.correlationId as string).length <= L.correlationId &&
    optional(value.inReplyTo, isId) &&
    optional(value.traceparent, upTo(L.traceparent)) &&
    optional(value.tracestate, upTo(L.tracestate)) &&
    isObject(sender) &&
    isId(sender.instanceId) &&
    optional(sender.service, isName) &&
    optional(sender.version, isName) &&
    optional(sender.name, isName) &&
    optional(
      receiver,
      (r) =>
        isObject(r) &&
        isName(r.service) &&
        isName(r.version) &&
        isName(r.command) &&
        optional(r.instanceId, upTo(L.id)),
    ) &&
    optional(value.eventName, isName) &&
    optional(value.principalId, upTo(L.principal)) &&
    optional(value.tenantId, upTo(L.principal)) &&
    optional(value.deadline, isFiniteNumber) &&
    upTo(L.contentType)(value.contentType) &&
    optional(value.parameter, isParameter) &&
    optional(value.headers, isHeaders)
  )
}

/** Validates an already parsed value as a v1 envelope. */
export function validateEnvelope(value: unknown): Envelope {
  if (isEnvelope(value)) return checkKind(value)
  const result = envelopeSchema.safeParse(value)
  if (!result.success) {
    const issue = result.error.issues[0]
    const where = issue?.path.length ? issue.path.join('.') : 'envelope'
    throw new MalformedMessageError(`${where}: ${issue?.message ?? 'invalid'}`)
  }
  return checkKind(result.data as Envelope)
}

function checkKind(envelope: Envelope): Envelope {
  if (envelope.type === 'command' && envelope.receiver === undefined) {
    throw new MalformedMessageError('receiver: a command needs a receiver')
  }
  if (envelope.type === 'event' && envelope.eventName === undefined) {
    throw new MalformedMessageError('eventName: an event needs an event name')
  }
  return envelope
}

/** Parses and validates bytes (or a string) from the wire. Throws MalformedMessageError with the reason. */
export function decodeEnvelope(raw: Uint8Array | string): Envelope {
  let text: string
  try {
    text = typeof raw === 'string' ? raw : decoder.decode(raw)
  } catch {
    throw new MalformedMessageError('not valid UTF-8')
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    // V8's message quotes the text around the fault, which is payload: keep only where it is
    const position = /position (\d+)/.exec((error as Error).message)?.[1]
    throw new MalformedMessageError(
      `not JSON (${text.length} characters${position === undefined ? '' : `, invalid at position ${position}`})`,
    )
  }
  return validateEnvelope(value)
}
