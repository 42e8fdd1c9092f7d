import { randomUUID } from 'node:crypto'
import type { HeaderReader } from './requestHeaders.js'

export const CORRELATION_HEADER = 'x-correlation-id'
const REQUEST_ID_HEADER = 'x-request-id'

// The id ends up in logs, envelopes and response headers: only accept a short, plain token.
const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/

/** The caller's correlation id (`x-correlation-id`, else `x-request-id`) when well-formed, else a new one. */
export function correlationIdOf(header: HeaderReader): string {
  const given = header(CORRELATION_HEADER) ?? header(REQUEST_ID_HEADER)
  return given !== undefined && SAFE_ID.test(given) ? given : randomUUID()
}
