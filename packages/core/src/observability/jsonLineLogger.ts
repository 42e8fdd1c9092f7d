import { hostname } from 'node:os'
import { serializeError } from '../errors/logFields.js'
import type { LogFn, Logger } from './logging.js'

export type LogLevelName = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent'

/** Anything with a `write(line)`: a stream, or an array's collector in a test. */
export interface LogDestination {
  write(line: string): unknown
}

/** pino's numeric levels, so log pipelines that read pino lines read ours unchanged. */
const LEVEL_VALUES: Record<LogLevelName, number> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
  silent: Number.POSITIVE_INFINITY,
}

export function levelFromEnvironment(): LogLevelName {
  const configured = process.env.CONDUIT_LOG_LEVEL?.toLowerCase()
  return configured !== undefined && configured in LEVEL_VALUES ? (configured as LogLevelName) : 'info'
}

const noop: LogFn = () => {}

/**
 * A dependency-free logger writing one JSON object per line. Bindings are pre-serialized once
 * per child, so a line costs one `JSON.stringify` of the call's own fields.
 */
export class JsonLineLogger implements Logger {
  readonly trace: LogFn
  readonly debug: LogFn
  readonly info: LogFn
  readonly warn: LogFn
  readonly error: LogFn
  readonly fatal: LogFn

  static root(bindings: Record<string, unknown>, level: LogLevelName, destination?: LogDestination): Logger {
    const base = { pid: process.pid, hostname: hostname(), ...bindings }
    return new JsonLineLogger(
      fieldsText(base),
      LEVEL_VALUES[level] ?? LEVEL_VALUES.info,
      destination ?? process.stdout,
    )
  }

  private constructor(
    private readonly bindingsText: string,
    private readonly threshold: number,
    private readonly destination: LogDestination,
  ) {
    this.trace = this.method(LEVEL_VALUES.trace)
    this.debug = this.method(LEVEL_VALUES.debug)
    this.info = this.method(LEVEL_VALUES.info)
    this.warn = this.method(LEVEL_VALUES.warn)
    this.error = this.method(LEVEL_VALUES.error)
    this.fatal = this.method(LEVEL_VALUES.fatal)
  }

  child(bindings: Record<string, unknown>): Logger {
    return new JsonLineLogger(
      joinFields(this.bindingsText, fieldsText(bindings)),
      this.threshold,
      this.destination,
    )
  }

  private method(level: number): LogFn {
    if (level < this.threshold) return noop
    return (first: unknown, ...rest: unknown[]) => {
      try {
        this.destination.write(this.line(level, first, rest))
      } catch {
        // A log line must never break the code that logs; a broken destination loses the line.
      }
    }
  }

  private line(level: number, first: unknown, rest: unknown[]): string {
    let fields: Record<string, unknown> | undefined
    let message: unknown
    let args: unknown[]
    if (typeof first === 'object' && first !== null) {
      fields = first instanceof Error ? { err: first } : (first as Record<string, unknown>)
      message = rest[0] ?? (first instanceof Error ? first.message : undefined)
      args = rest.slice(1)
    } else {
      message = first
      args = rest
    }
    const head = `{"level":${level},"time":${Date.now()}`
    const own =
      fields === undefined ? '' : fieldsText(fields.err === undefined ? fields : withSerializedError(fields))
    const msg = message === undefined ? '' : `"msg":${safeJson(formatMessage(String(message), args))}`
    return `${joinFields(joinFields(head, this.bindingsText), joinFields(own, msg))}}\n`
  }
}

function withSerializedError(fields: Record<string, unknown>): Record<string, unknown> {
  return { ...fields, err: serializeError(fields.err) }
}

/** The inside of a JSON object (no braces), or '' for no fields. */
function fieldsText(fields: Record<string, unknown>): string {
  const text = safeJson(fields)
  return text.length <= 2 ? '' : text.slice(1, -1)
}

function joinFields(left: string, right: string): string {
  if (left === '') return right
  if (right === '') return left
  return `${left},${right}`
}

/** JSON that never throws: cycles become "[Circular]", bigints strings. */
function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? 'null'
  } catch {
    const seen = new WeakSet<object>()
    return JSON.stringify(value, (_key, inner: unknown) => {
      if (typeof inner === 'bigint') return inner.toString()
      if (typeof inner === 'object' && inner !== null) {
        if (seen.has(inner)) return '[Circular]'
        seen.add(inner)
      }
      return inner
    })
  }
}

/** printf-style placeholders as pino reads them: %s %d %i %f %j %o %O, and %% for a percent. */
function formatMessage(message: string, args: unknown[]): string {
  if (args.length === 0) return message
  let next = 0
  return message.replace(/%[sdifjoO%]/g, (token) => {
    if (token === '%%') return '%'
    if (next >= args.length) return token
    const arg = args[next++]
    switch (token) {
      case '%d':
        return String(Number(arg))
      case '%i':
        return String(Math.trunc(Number(arg)))
      case '%f':
        return String(Number.parseFloat(String(arg)))
      case '%s':
        return String(arg)
      default:
        return safeJson(arg)
    }
  })
}
