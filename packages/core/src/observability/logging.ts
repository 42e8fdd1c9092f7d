import {
  JsonLineLogger,
  type LogDestination,
  type LogLevelName,
  levelFromEnvironment,
} from './jsonLineLogger.js'

/**
 * One log method, in pino's calling convention: an object of fields first (or an error, logged
 * as `err`), then a message with optional printf-style arguments; or just the message.
 */
export interface LogFn {
  (fields: object, message?: string, ...args: unknown[]): void
  (message: string, ...args: unknown[]): void
}

/**
 * What Conduit needs from a logger. A pino logger satisfies it as it is, as does the built-in
 * default; so do most structured loggers behind a thin adapter.
 */
export interface Logger {
  trace: LogFn
  debug: LogFn
  info: LogFn
  warn: LogFn
  error: LogFn
  fatal: LogFn
  /** A logger that adds `bindings` to every line. */
  child(bindings: Record<string, unknown>): Logger
}

export interface DefaultLoggerOptions {
  /** Default: CONDUIT_LOG_LEVEL, else `info`. `silent` writes nothing. */
  level?: LogLevelName
  /** Where lines go. Default: stdout. */
  destination?: LogDestination
}

/**
 * The default logger: JSON lines in pino's format (`level` as a number, `time`, `pid`,
 * `hostname`, bindings, fields, `msg`) to stdout at CONDUIT_LOG_LEVEL (default `info`). It has
 * no dependencies, so a bundled function loads without a `require` shim; pass a pino logger for
 * transports, redaction or pretty printing. Payloads are never logged by the runtime; handlers
 * log what they choose. An error's `type` is its explicit `name`, so it survives minification.
 */
export function createDefaultLogger(
  bindings: Record<string, unknown> = {},
  options: DefaultLoggerOptions = {},
): Logger {
  return JsonLineLogger.root(bindings, options.level ?? levelFromEnvironment(), options.destination)
}

export type { LogDestination, LogLevelName }
