import { pino } from 'pino'

/**
 * pino's `err` serializer, except that `type` is the error's `name` when the error names
 * itself (every Conduit error does, explicitly): pino takes `constructor.name`, which a
 * minified bundle renames (`"type":"ut"`). Errors that keep the generic name "Error" still get
 * their class name, as with pino's own serializer.
 */
export function serializeError(value: unknown): unknown {
  const serialized = pino.stdSerializers.err(value as Error)
  if (serialized === value || typeof serialized !== 'object' || serialized === null) return serialized
  const name = (value as { name?: unknown }).name
  if (typeof name === 'string' && name !== '' && name !== 'Error') serialized.type = name
  return serialized
}
