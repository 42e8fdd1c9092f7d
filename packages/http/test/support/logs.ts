import { createDefaultLogger, type Logger } from '@conduit/core'

export interface CapturedLogs {
  logger: Logger
  /** every line as written */
  readonly raw: string[]
  /** the gateway's access log lines, parsed */
  accessLines(): Record<string, any>[]
}

/** The default JSON-line logger, writing into memory at `level`. */
export function captureLogs(level: 'trace' | 'debug' | 'info' | 'warn' = 'trace'): CapturedLogs {
  const raw: string[] = []
  const logger = createDefaultLogger({}, { level, destination: { write: (line: string) => raw.push(line) } })
  return {
    logger,
    raw,
    accessLines: () =>
      raw
        .map((line) => JSON.parse(line) as Record<string, any>)
        .filter((entry) => entry.msg === 'http request'),
  }
}
