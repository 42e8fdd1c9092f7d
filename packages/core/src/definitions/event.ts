import { assertEventName } from '../names.js'
import type { EventDefinition, Schema } from './types.js'

/** Declares an event: a name and the schema of its payload. Importable without any handler. */
export function defineEvent<const Name extends string, S extends Schema>(
  name: Name,
  schema: S,
  description?: string,
): EventDefinition<Name, S> {
  assertEventName(name)
  return Object.freeze({ kind: 'event', name, schema, description })
}
