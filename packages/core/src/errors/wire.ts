import {
  BridgeUnavailableError,
  ConduitError,
  ConflictError,
  HandledError,
  isConduitError,
  NoHandlerError,
  PayloadTooLargeError,
  TimeoutError,
  UnhandledError,
  ValidationError,
  type ValidationIssue,
  type ValidationTarget,
} from './errors.js'

/** The error as data: the payload of an envelope of type `error`. */
export interface WireError {
  status: number
  code: string
  message: string
  retryable: boolean
  data?: unknown
  correlationId?: string
}

/**
 * Turns any thrown value into what may go on the wire. Conduit errors pass with their data;
 * anything else becomes a generic 500 so no stack or internal message ever leaves the process.
 */
export function errorToWire(error: unknown, correlationId?: string): WireError {
  const conduitError = isConduitError(error) ? error : new UnhandledError(correlationId)
  const wire: WireError = {
    status: conduitError.status,
    code: conduitError.code,
    message: conduitError.message,
    retryable: conduitError.retryable,
  }
  if (conduitError.data !== undefined) wire.data = conduitError.data
  const id = conduitError.correlationId ?? correlationId
  if (id !== undefined) wire.correlationId = id
  return wire
}

/** Rebuilds the matching error class on the receiving side. */
export function errorFromWire(wire: WireError): ConduitError {
  const options = wire.correlationId === undefined ? {} : { correlationId: wire.correlationId }
  let error: ConduitError
  switch (wire.code) {
    case 'VALIDATION_FAILED': {
      const data = (wire.data ?? {}) as { target?: ValidationTarget; issues?: ValidationIssue[] }
      error = new ValidationError(data.target ?? 'input', data.issues ?? [])
      Object.defineProperty(error, 'message', { value: wire.message })
      break
    }
    case 'TIMEOUT':
      error = new TimeoutError(wire.message, options)
      break
    case 'NO_HANDLER':
      error = new NoHandlerError(wire.message, options)
      break
    case 'BRIDGE_UNAVAILABLE':
      error = new BridgeUnavailableError(wire.message, options)
      break
    case 'PAYLOAD_TOO_LARGE': {
      const data = (wire.data ?? {}) as { size?: number; limit?: number }
      error = new PayloadTooLargeError(data.size ?? 0, data.limit ?? 0, 'remote bridge')
      Object.defineProperty(error, 'message', { value: wire.message })
      break
    }
    case 'CONFLICT':
      error = new ConflictError(wire.message, wire.data as { store?: string; key?: string } | undefined)
      break
    case 'INTERNAL':
      error = new UnhandledError(wire.correlationId)
      break
    default:
      error = new HandledError(wire.status, wire.message, wire.data, wire.code)
  }
  error.correlationId = wire.correlationId
  return error
}

export function isWireError(value: unknown): value is WireError {
  if (typeof value !== 'object' || value === null) return false
  const candidate = value as Partial<WireError>
  return (
    typeof candidate.status === 'number' &&
    typeof candidate.code === 'string' &&
    typeof candidate.message === 'string'
  )
}

export { ConduitError }
