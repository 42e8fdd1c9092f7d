import { z } from 'zod'
import { MalformedMessageError, PayloadTooLargeError } from '../errors/errors.js'
import { type Envelope, SPEC_VERSION } from './envelope.js'

const senderSchema = z.object({
  service: z.string().optional(),
  version: z.string().optional(),
  name: z.string().optional(),
  instanceId: z.string().min(1),
})

const envelopeSchema = z.object({
  id: z.string().min(1),
  type: z.enum(['command', 'response', 'error', 'event']),
  specVersion: z.literal(SPEC_VERSION),
  time: z.number().finite(),
  correlationId: z.string().min(1),
  inReplyTo: z.string().min(1).optional(),
  traceparent: z.string().optional(),
  tracestate: z.string().optional(),
  sender: senderSchema,
  receiver: z
    .object({
      service: z.string(),
      version: z.string(),
      command: z.string(),
      instanceId: z.string().optional(),
    })
    .optional(),
  eventName: z.string().optional(),
  principalId: z.string().optional(),
  tenantId: z.string().optional(),
  deadline: z.number().finite().optional(),
  contentType: z.string(),
  payload: z.unknown(),
  parameter: z.record(z.string(), z.unknown()).optional(),
  headers: z.record(z.string(), z.string()).optional(),
})

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

/** JSON-encodes an envelope, refusing one larger than the transport can carry. */
export function encodeEnvelope(
  envelope: Envelope,
  maxBytes = Number.POSITIVE_INFINITY,
  bridge = 'bridge',
): Uint8Array {
  const bytes = encoder.encode(JSON.stringify(envelope))
  if (bytes.byteLength > maxBytes) throw new PayloadTooLargeError(bytes.byteLength, maxBytes, bridge)
  return bytes
}

/** Validates an already parsed value as a v1 envelope. */
export function validateEnvelope(value: unknown): Envelope {
  const result = envelopeSchema.safeParse(value)
  if (!result.success) {
    const issue = result.error.issues[0]
    const where = issue?.path.length ? issue.path.join('.') : 'envelope'
    throw new MalformedMessageError(`${where}: ${issue?.message ?? 'invalid'}`)
  }
  const envelope = result.data as Envelope
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
    throw new MalformedMessageError(`not JSON (${(error as Error).message})`)
  }
  return validateEnvelope(value)
}
