import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import * as core from '../index.js'
import { createDefaultLogger } from '../observability/logging.js'
import { ConduitError, HandledError, TimeoutError } from './errors.js'
import { serializeError } from './logFields.js'

type ErrorClass = (abstract new (...args: any[]) => Error) & { prototype: Error }

/** Every error class the package exports, by its exported identifier. */
const exportedErrorClasses = Object.entries(core as Record<string, unknown>).filter(
  (entry): entry is [string, ErrorClass] =>
    typeof entry[1] === 'function' && entry[1].prototype instanceof Error,
)

/** An instance of each, built the way the runtime builds them. */
const examples: Record<string, () => Error> = {
  ConduitError: () => new core.ConduitError(418, 'TEAPOT', 'short and stout', false),
  HandledError: () => new core.HandledError(404, 'User not found'),
  ValidationError: () => new core.ValidationError('input', []),
  TimeoutError: () => new core.TimeoutError('too slow'),
  NoHandlerError: () => new core.NoHandlerError('nobody'),
  BridgeUnavailableError: () => new core.BridgeUnavailableError('down'),
  PayloadTooLargeError: () => new core.PayloadTooLargeError(2000, 1000, 'nats'),
  UnhandledError: () => new core.UnhandledError('c-1'),
  CapabilityError: () => new core.CapabilityError('memory', 'a command', 'durable', 'no disk'),
  DefinitionError: () => new core.DefinitionError('bad name'),
  MalformedMessageError: () => new core.MalformedMessageError('not JSON'),
  ConflictError: () => new core.ConflictError('changed', { store: 'memory', key: 'k' }),
}

/** What a minifier does to a class: the class gets a short name of its own. */
function minified<T>(type: ErrorClass, run: () => T): T {
  const original = Object.getOwnPropertyDescriptor(type, 'name')!
  Object.defineProperty(type, 'name', { ...original, value: 'ut' })
  try {
    return run()
  } finally {
    Object.defineProperty(type, 'name', original)
  }
}

describe('error names', () => {
  it('finds the exported error classes', () => {
    expect(exportedErrorClasses.map(([identifier]) => identifier).sort()).toEqual(
      Object.keys(examples).sort(),
    )
  })

  it.each(exportedErrorClasses)(
    '%s names itself explicitly, with its exported identifier',
    (identifier, type) => {
      // Explicit: declared on the class itself, not taken from `constructor.name`.
      expect(Object.hasOwn(type.prototype, 'name')).toBe(true)
      expect(type.prototype.name).toBe(identifier)
    },
  )

  it.each(exportedErrorClasses)('%s keeps its name and logged type when minified', (identifier, type) => {
    const example = examples[identifier]
    if (!example) throw new Error(`add an example of ${identifier} to this test`)
    const { error, logged } = minified(type, () => {
      const error = example()
      return { error, logged: serializeError(error) as { type: string } }
    })
    expect(error.constructor.name).toBe(identifier) // the rename is undone again
    expect(error.name).toBe(identifier)
    expect(String(error)).toMatch(new RegExp(`^${identifier}: `))
    expect(error.stack).toMatch(new RegExp(`^${identifier}: `))
    expect(logged.type).toBe(identifier)
  })

  it('names a subclass declared elsewhere after its class, or after its own explicit name', () => {
    class NotFoundError extends HandledError {
      constructor() {
        super(404, 'not found')
      }
    }
    class ExplicitError extends ConduitError {
      override readonly name = 'ExplicitError'
      constructor() {
        super(409, 'CONFLICT', 'conflict', false)
      }
    }
    expect(new NotFoundError().name).toBe('NotFoundError')
    expect(new ExplicitError().name).toBe('ExplicitError')
    expect(new HandledError(404, 'not found').name).toBe('HandledError')
  })
})

describe('errors in logs', () => {
  it('the default logger serializes `err` with the explicit name as its type', () => {
    const lines: string[] = []
    const logger = createDefaultLogger(
      {},
      { level: 'error', destination: { write: (line: string) => lines.push(line) } },
    )
    logger.error({ err: new TimeoutError('too slow', { correlationId: 'c-1' }) }, 'call failed')
    const logged = JSON.parse(lines[0]!) as { err: Record<string, unknown> }
    expect(logged.err).toMatchObject({ type: 'TimeoutError', code: 'TIMEOUT', correlationId: 'c-1' })
  })

  it('logs an error exactly as pino does, apart from the explicit name', () => {
    class PlainError extends Error {
      readonly detail = 'kept'
    }
    const error = new PlainError('outer', { cause: new TypeError('inner') })
    const ours = serializeError(error) as Record<string, unknown>
    const theirs = pino.stdSerializers.err(error) as unknown as Record<string, unknown>
    expect(JSON.parse(JSON.stringify(ours))).toEqual(JSON.parse(JSON.stringify(theirs)))
  })

  it('keeps what pino logs for other errors and for values that are not errors', () => {
    class PlainError extends Error {}
    const serialized = serializeError(new PlainError('plain', { cause: new TypeError('inner') })) as Record<
      string,
      unknown
    >
    expect(serialized).toMatchObject({ type: 'PlainError', message: 'plain: inner' })
    expect((serializeError(new TypeError('bad')) as { type: string }).type).toBe('TypeError')
    expect(serializeError('just a string')).toBe('just a string')
    const timeout = serializeError(new TimeoutError('too slow', { correlationId: 'c-1' }))
    expect(timeout).toMatchObject({
      type: 'TimeoutError',
      message: 'too slow',
      status: 504,
      code: 'TIMEOUT',
      correlationId: 'c-1',
    })
  })
})
