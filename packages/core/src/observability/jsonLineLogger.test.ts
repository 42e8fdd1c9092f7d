import { hostname } from 'node:os'
import { pino } from 'pino'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { createDefaultLogger, type Logger, type LogLevelName } from './logging.js'

function collected(level: LogLevelName | 'environment' = 'trace', bindings = {}) {
  const lines: string[] = []
  const logger = createDefaultLogger(bindings, {
    ...(level === 'environment' ? {} : { level }),
    destination: { write: (line: string) => lines.push(line) },
  })
  return { logger, lines, parsed: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) }
}

/** The same call through pino, for comparing lines field by field. */
function throughPino(log: (logger: Logger) => void): Record<string, unknown> {
  const lines: string[] = []
  const logger = pino({ level: 'trace' }, { write: (line: string) => lines.push(line) })
  log(logger)
  return JSON.parse(lines[0]!) as Record<string, unknown>
}

describe('the default JSON line logger', () => {
  it('accepts a pino logger wherever a Logger goes', () => {
    expectTypeOf(pino()).toExtend<Logger>()
  })

  it('writes the fields pino writes, one JSON object per line', () => {
    const { logger, lines, parsed } = collected('trace', { service: 'orders' })
    logger.child({ handler: 'place' }).info({ orderId: 'o-1' }, 'placed %s in %dms', 'o-1', 12)
    expect(lines[0]!.endsWith('}\n')).toBe(true)
    const line = parsed()[0]!
    expect(line).toMatchObject({
      level: 30,
      pid: process.pid,
      hostname: hostname(),
      service: 'orders',
      handler: 'place',
      orderId: 'o-1',
      msg: 'placed o-1 in 12ms',
    })
    expect(typeof line.time).toBe('number')
    const reference = throughPino((l) =>
      l
        .child({ service: 'orders' })
        .child({ handler: 'place' })
        .info({ orderId: 'o-1' }, 'placed %s in %dms', 'o-1', 12),
    )
    expect(Object.keys(line).sort()).toEqual(Object.keys(reference).sort())
  })

  it('logs an error given as the first argument under err, with its message as msg', () => {
    const { logger, parsed } = collected()
    logger.warn(new RangeError('out of range'))
    const line = parsed()[0]!
    expect(line).toMatchObject({
      level: 40,
      msg: 'out of range',
      err: { type: 'RangeError', message: 'out of range' },
    })
    const reference = throughPino((l) => l.warn(new RangeError('out of range')))
    expect(line.msg).toBe(reference.msg)
  })

  it('writes nothing below its level, and nothing at all when silent', () => {
    const quiet = collected('warn')
    quiet.logger.info('hidden')
    quiet.logger.debug({ a: 1 }, 'hidden')
    quiet.logger.error('shown')
    expect(quiet.parsed().map((line) => line.msg)).toEqual(['shown'])
    const silent = collected('silent')
    silent.logger.fatal('hidden')
    expect(silent.lines).toEqual([])
  })

  it('reads its level from CONDUIT_LOG_LEVEL', () => {
    const previous = process.env.CONDUIT_LOG_LEVEL
    process.env.CONDUIT_LOG_LEVEL = 'error'
    try {
      const { logger, parsed } = collected('environment')
      logger.warn('hidden')
      logger.error('shown')
      expect(parsed().map((line) => line.msg)).toEqual(['shown'])
    } finally {
      if (previous === undefined) delete process.env.CONDUIT_LOG_LEVEL
      else process.env.CONDUIT_LOG_LEVEL = previous
    }
  })

  it('never throws: cycles, bigints and a failing destination lose nothing but the line', () => {
    const { logger, parsed } = collected()
    const cyclic: Record<string, unknown> = { big: 10n }
    cyclic.self = cyclic
    logger.info({ cyclic }, 'odd fields')
    expect(parsed()[0]).toMatchObject({ cyclic: { big: '10', self: '[Circular]' }, msg: 'odd fields' })
    const broken = createDefaultLogger(
      {},
      {
        level: 'trace',
        destination: {
          write: () => {
            throw new Error('disk full')
          },
        },
      },
    )
    expect(() => broken.error('lost')).not.toThrow()
  })
})
