import { ConduitError } from '@conduit/core'

/**
 * A value as this driver stores it: `{"r": version, "x": expiresAt, "v": value}`. Dapr answers a
 * write with no ETag, so the version is the driver's own (random, new on every write) and known
 * before the write; `x` (epoch ms) makes expiry exact to the millisecond, where Dapr's
 * `ttlInSeconds` only counts whole seconds (it still removes the value, a little later).
 */
export interface Unwrapped {
  /** the value's JSON text */
  readonly value: string
  readonly version: string
  readonly expiresAt: number | undefined
}

/** Wraps the value's JSON text as is: the driver never parses a value to write it. */
export function wrap(valueJson: string, version: string, expiresAt: number | undefined): string {
  const expiry = expiresAt === undefined ? '' : `,"x":${expiresAt}`
  return `{"r":${JSON.stringify(version)}${expiry},"v":${valueJson}}`
}

export function unwrap(data: unknown, storedKey: string): Unwrapped {
  const envelope = data as { r?: unknown; x?: unknown; v?: unknown } | null
  if (
    typeof envelope !== 'object' ||
    envelope === null ||
    typeof envelope.r !== 'string' ||
    !('v' in envelope)
  ) {
    throw new ConduitError(
      500,
      'DAPR_STATE_FOREIGN_VALUE',
      `Dapr state key ${storedKey} holds a value this store did not write (no {"r","v"} envelope)`,
      false,
    )
  }
  return {
    value: JSON.stringify(envelope.v),
    version: envelope.r,
    expiresAt: typeof envelope.x === 'number' ? envelope.x : undefined,
  }
}

export function isLive(entry: Unwrapped, now = Date.now()): boolean {
  return entry.expiresAt === undefined || entry.expiresAt > now
}
