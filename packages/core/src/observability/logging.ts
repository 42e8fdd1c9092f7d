import { pino } from 'pino'
import { serializeError } from '../errors/logFields.js'

/** Any pino-compatible logger. */
export type Logger = pino.Logger

/**
 * The default logger: pino to stdout at CONDUIT_LOG_LEVEL (default `info`). Payloads are never
 * logged by the runtime; handlers log what they choose. An error's `type` is its explicit
 * `name`, so it survives minification.
 */
export function createDefaultLogger(bindings: Record<string, unknown> = {}): Logger {
  return pino({
    level: process.env.CONDUIT_LOG_LEVEL ?? 'info',
    base: { ...bindings },
    serializers: { err: serializeError },
  })
}
