import { createDefaultLogger, type Logger } from '@conduit/core'
import type { LogLevel } from './environment.js'

/**
 * Core's JSON-line logger at the level read (and validated) from CONDUIT_LOG_LEVEL: core alone
 * would take a misspelt level silently as `info`.
 */
export function createProcessLogger(level: LogLevel): Logger {
  return createDefaultLogger({}, { level })
}
