import { describe, expect, it } from 'vitest'
import {
  BridgeUnavailableError,
  CONDUIT_ERROR,
  ConflictError,
  HandledError,
  isConduitError,
  NoHandlerError,
  PayloadTooLargeError,
  TimeoutError,
  ValidationError,
} from './errors.js'
import { errorFromWire, errorToWire } from './wire.js'

const roundTrip = (error: unknown, correlationId?: string) =>
  errorFromWire(JSON.parse(JSON.stringify(errorToWire(error, correlationId))))

describe('errors on the wire', () => {
  it.each([
    [new HandledError(404, 'User not found', { userId: 'u1' }), HandledError],
    [
      new ValidationError('input', [{ path: ['email'], message: 'Invalid email', code: 'invalid_format' }]),
      ValidationError,
    ],
    [new TimeoutError('too slow'), TimeoutError],
    [new NoHandlerError('nobody'), NoHandlerError],
    [new BridgeUnavailableError('down'), BridgeUnavailableError],
    [new PayloadTooLargeError(2000, 1000, 'nats'), PayloadTooLargeError],
    [new ConflictError('redis store: key "k" changed', { store: 'redis', key: 'k' }), ConflictError],
  ])('%s keeps its class, status, code, message, data and retryable flag', (error, type) => {
    const rebuilt = roundTrip(error)
    expect(rebuilt).toBeInstanceOf(type)
    expect(rebuilt.status).toBe(error.status)
    expect(rebuilt.code).toBe(error.code)
    expect(rebuilt.message).toBe(error.message)
    expect(rebuilt.data).toEqual(error.data)
    expect(rebuilt.retryable).toBe(error.retryable)
  })

  it('turns anything else into a generic 500 with the correlation id and no internals', () => {
    const internal = new Error('password=hunter2 at db.js:42')
    const wire = errorToWire(internal, 'corr-1')
    expect(wire).toEqual({
      status: 500,
      code: 'INTERNAL',
      message: 'Internal error (correlation id corr-1)',
      retryable: false,
      correlationId: 'corr-1',
    })
    expect(JSON.stringify(wire)).not.toContain('hunter2')
  })

  it('keeps a custom HandledError code', () => {
    expect(roundTrip(new HandledError(409, 'taken', undefined, 'EMAIL_TAKEN')).code).toBe('EMAIL_TAKEN')
  })

  it('recognises errors structurally, across package copies', () => {
    const foreign = Object.assign(new Error('x'), { [CONDUIT_ERROR]: true, status: 418 })
    expect(isConduitError(foreign)).toBe(true)
    expect(isConduitError(new Error('x'))).toBe(false)
    expect(isConduitError(null)).toBe(false)
  })
})
