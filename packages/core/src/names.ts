import { DefinitionError } from './errors/errors.js'

// Names end up in broker subjects, routing keys and topics. Restricting them once here
// means no bridge has to escape anything: `.` separates event-name segments, and the
// characters brokers reserve (`*`, `>`, `#`, `+`, `/`, whitespace, NUL) never appear.
const IDENTIFIER = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/
const VERSION = /^[A-Za-z0-9][A-Za-z0-9_-]{0,15}$/
const EVENT_SEGMENT = /^[A-Za-z0-9_-]+$/

export function assertIdentifier(kind: string, value: string): void {
  if (!IDENTIFIER.test(value)) {
    throw new DefinitionError(
      `Invalid ${kind} name ${JSON.stringify(value)}: use a letter followed by letters, digits, '_' or '-' (max 64 characters)`,
    )
  }
}

export function assertVersion(service: string, value: string): void {
  if (!VERSION.test(value)) {
    throw new DefinitionError(
      `Invalid version ${JSON.stringify(value)} for service ${service}: use letters, digits, '_' or '-' (e.g. "1")`,
    )
  }
}

/** An event name is dot-separated segments of letters, digits, '_' and '-', e.g. `user.registered`. */
export function assertEventName(value: string): void {
  const segments = value.split('.')
  if (value.length > 200 || segments.some((segment) => !EVENT_SEGMENT.test(segment))) {
    throw new DefinitionError(
      `Invalid event name ${JSON.stringify(value)}: use dot-separated segments of letters, digits, '_' or '-'`,
    )
  }
}

/**
 * An event pattern is an event name where a segment may be `*` (exactly one segment) and the
 * last segment may be `#` (one or more segments).
 */
export function assertEventPattern(value: string): void {
  const segments = value.split('.')
  const ok = segments.every(
    (segment, index) =>
      segment === '*' || (segment === '#' && index === segments.length - 1) || EVENT_SEGMENT.test(segment),
  )
  if (!ok || value.length > 200) {
    throw new DefinitionError(
      `Invalid event pattern ${JSON.stringify(value)}: segments are names, '*' (one segment) or a final '#' (one or more segments)`,
    )
  }
}

export function isWildcardPattern(pattern: string): boolean {
  return pattern.includes('*') || pattern.includes('#')
}

/** Compiles a pattern into a matcher; exact names compare by string equality. */
export function compileEventPattern(pattern: string): (eventName: string) => boolean {
  if (!isWildcardPattern(pattern)) return (eventName) => eventName === pattern
  const source = pattern
    .split('.')
    .map((segment) => (segment === '*' ? '[^.]+' : segment === '#' ? '[^.]+(?:\\.[^.]+)*' : segment))
    .join('\\.')
  const regex = new RegExp(`^${source}$`)
  return (eventName) => regex.test(eventName)
}
