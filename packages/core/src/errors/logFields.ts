/**
 * How an error is logged: pino's `err` shape (`type`, `message` and `stack` with their causes,
 * `aggregateErrors`, and the error's own fields), except that `type` is the error's `name` when
 * it names itself (every Conduit error does, explicitly). `constructor.name` is what a minified
 * bundle renames (`"type":"ut"`); errors that keep the generic name "Error" get their class
 * name. Values that are not errors are returned unchanged.
 */
export function serializeError(value: unknown): unknown {
  return isErrorLike(value) ? serialize(value, new Set()) : value
}

function isErrorLike(value: unknown): value is Error {
  return (
    value instanceof Error ||
    (typeof value === 'object' &&
      value !== null &&
      typeof (value as { message?: unknown }).message === 'string')
  )
}

function typeOf(error: Error): string {
  const name = error.name
  if (typeof name === 'string' && name !== '' && name !== 'Error') return name
  return typeof error.constructor === 'function' && error.constructor.name !== ''
    ? error.constructor.name
    : 'Error'
}

function serialize(error: Error, seen: Set<object>): Record<string, unknown> {
  seen.add(error)
  const out: Record<string, unknown> = {
    type: typeOf(error),
    message: alongCauses(error, (e) => e.message, ': '),
    stack: alongCauses(error, (e) => e.stack ?? '', '\ncaused by: '),
  }
  const aggregated = (error as { errors?: unknown }).errors
  if (Array.isArray(aggregated)) {
    out.aggregateErrors = aggregated.map((inner) =>
      isErrorLike(inner) && !seen.has(inner) ? serialize(inner, seen) : inner,
    )
  }
  for (const key in error) {
    if (key in out || key === 'cause') continue
    const inner = (error as unknown as Record<string, unknown>)[key]
    if (isErrorLike(inner)) {
      if (!seen.has(inner)) out[key] = serialize(inner, seen)
    } else {
      out[key] = inner
    }
  }
  return out
}

/** The error's text followed by each error-like cause's, as pino joins them. */
function alongCauses(error: Error, text: (e: Error) => string, separator: string): string {
  const parts = [text(error)]
  const visited = new Set<unknown>([error])
  let cause = (error as { cause?: unknown }).cause
  while (isErrorLike(cause) && !visited.has(cause)) {
    visited.add(cause)
    const part = text(cause)
    if (part !== '') parts.push(part)
    cause = (cause as { cause?: unknown }).cause
  }
  return parts.join(separator)
}
