/**
 * The flat error model. Every error that crosses a bridge is a ConduitError with an HTTP-like
 * `status`, a stable `code` and a `retryable` flag; it is serialized as data (see wire.ts) and
 * rebuilt on the other side, so callers can branch on status/code regardless of transport.
 */
export const CONDUIT_ERROR = Symbol.for('conduit.error')

export interface ConduitErrorOptions {
  data?: unknown
  correlationId?: string
  cause?: unknown
}

/**
 * Names an error class explicitly, on its prototype as the built-in errors do
 * (`TypeError.prototype.name`). Logs and `toString()` then show this name even in a minified
 * bundle, where the class itself is renamed (`constructor.name` becomes "ut").
 */
function nameErrorClass(type: { readonly prototype: Error }, name: string): void {
  Object.defineProperty(type.prototype, 'name', { value: name, writable: true, configurable: true })
}

export class ConduitError extends Error {
  static {
    nameErrorClass(ConduitError, 'ConduitError')
  }

  readonly [CONDUIT_ERROR] = true
  readonly status: number
  readonly code: string
  readonly retryable: boolean
  readonly data: unknown
  correlationId: string | undefined

  constructor(
    status: number,
    code: string,
    message: string,
    retryable: boolean,
    options: ConduitErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    // Every class here names itself explicitly (nameErrorClass); a subclass declared elsewhere
    // that does not is named after its class, as before.
    if (!Object.hasOwn(new.target.prototype, 'name')) this.name = new.target.name
    this.status = status
    this.code = code
    this.retryable = retryable
    this.data = options.data
    this.correlationId = options.correlationId
  }
}

/** An error the handler raises on purpose; status, message and data reach the caller intact. */
export class HandledError extends ConduitError {
  static {
    nameErrorClass(HandledError, 'HandledError')
  }

  constructor(status: number, message: string, data?: unknown, code = codeForStatus(status)) {
    super(status, code, message, status === 429 || status >= 502, { data })
  }
}

export type ValidationTarget = 'input' | 'output' | 'parameter' | 'event' | 'config' | 'state'

export interface ValidationIssue {
  path: (string | number)[]
  message: string
  code: string
}

/** 400: input, parameter or output did not match the definition's schema. */
export class ValidationError extends ConduitError {
  static {
    nameErrorClass(ValidationError, 'ValidationError')
  }

  constructor(target: ValidationTarget, issues: ValidationIssue[], subject = '') {
    const where = subject ? ` of ${subject}` : ''
    const first = issues[0]
    const detail = first ? `: ${first.path.join('.') || '(root)'} ${first.message}` : ''
    super(400, 'VALIDATION_FAILED', `Invalid ${target}${where}${detail}`, false, { data: { target, issues } })
  }

  get issues(): ValidationIssue[] {
    return (this.data as { issues: ValidationIssue[] }).issues
  }
}

/** 504: the deadline passed before a response arrived. */
export class TimeoutError extends ConduitError {
  static {
    nameErrorClass(TimeoutError, 'TimeoutError')
  }

  constructor(message: string, options: ConduitErrorOptions = {}) {
    super(504, 'TIMEOUT', message, true, options)
  }
}

/** 503: the transport could tell that nothing handles the command. */
export class NoHandlerError extends ConduitError {
  static {
    nameErrorClass(NoHandlerError, 'NoHandlerError')
  }

  constructor(message: string, options: ConduitErrorOptions = {}) {
    super(503, 'NO_HANDLER', message, true, options)
  }
}

/** 503: the bridge is not connected (not started, stopped, or the broker is unreachable). */
export class BridgeUnavailableError extends ConduitError {
  static {
    nameErrorClass(BridgeUnavailableError, 'BridgeUnavailableError')
  }

  constructor(message: string, options: ConduitErrorOptions = {}) {
    super(503, 'BRIDGE_UNAVAILABLE', message, true, options)
  }
}

/** 413: the encoded message exceeds what the bridge can carry. */
export class PayloadTooLargeError extends ConduitError {
  static {
    nameErrorClass(PayloadTooLargeError, 'PayloadTooLargeError')
  }

  constructor(size: number, limit: number, bridge: string) {
    super(
      413,
      'PAYLOAD_TOO_LARGE',
      `Message of ${size} bytes exceeds the ${bridge} limit of ${limit} bytes`,
      false,
      {
        data: { size, limit },
      },
    )
  }
}

/**
 * 409: a conditional write lost: the key changed (or appeared, or went away) since the version
 * the writer read. Re-read and decide again; `update()` does that by itself.
 */
export class ConflictError extends ConduitError {
  static {
    nameErrorClass(ConflictError, 'ConflictError')
  }

  constructor(message: string, data?: { store?: string; key?: string; attempts?: number }) {
    super(409, 'CONFLICT', message, false, data === undefined ? {} : { data })
  }
}

/** 500: anything not raised on purpose. The message is generic; details stay in the logs. */
export class UnhandledError extends ConduitError {
  static {
    nameErrorClass(UnhandledError, 'UnhandledError')
  }

  constructor(correlationId: string | undefined, options: ConduitErrorOptions = {}) {
    super(
      500,
      'INTERNAL',
      `Internal error${correlationId ? ` (correlation id ${correlationId})` : ''}`,
      false,
      {
        ...options,
        ...(correlationId === undefined ? {} : { correlationId }),
      },
    )
  }
}

/** Raised at start(): a definition needs a capability the bridge lacks. Never sent on the wire. */
export class CapabilityError extends ConduitError {
  static {
    nameErrorClass(CapabilityError, 'CapabilityError')
  }

  constructor(bridge: string, subject: string, capability: string, reason: string) {
    super(
      500,
      'CAPABILITY_MISSING',
      `${bridge} cannot run ${subject}: it needs the capability "${capability}", which ${bridge} lacks (${reason})`,
      false,
      { data: { bridge, subject, capability, reason } },
    )
  }
}

/** Raised while defining services: a name, schema or option is wrong. Never sent on the wire. */
export class DefinitionError extends ConduitError {
  static {
    nameErrorClass(DefinitionError, 'DefinitionError')
  }

  constructor(message: string) {
    super(500, 'INVALID_DEFINITION', message, false)
  }
}

/** A message on the wire that is not a valid v1 envelope. */
export class MalformedMessageError extends ConduitError {
  static {
    nameErrorClass(MalformedMessageError, 'MalformedMessageError')
  }

  constructor(reason: string) {
    super(400, 'MALFORMED_MESSAGE', `Malformed message: ${reason}`, false)
  }
}

/** Structural check: works across duplicated package copies, unlike instanceof. */
export function isConduitError(value: unknown): value is ConduitError {
  return (
    typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[CONDUIT_ERROR] === true
  )
}

const STATUS_CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  410: 'GONE',
  412: 'PRECONDITION_FAILED',
  413: 'PAYLOAD_TOO_LARGE',
  422: 'UNPROCESSABLE',
  429: 'TOO_MANY_REQUESTS',
  500: 'INTERNAL',
  501: 'NOT_IMPLEMENTED',
  502: 'BAD_GATEWAY',
  503: 'UNAVAILABLE',
  504: 'TIMEOUT',
}

export function codeForStatus(status: number): string {
  return STATUS_CODES[status] ?? `HTTP_${status}`
}
