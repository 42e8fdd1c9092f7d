import { HandledError, isConduitError, type Logger, UnhandledError } from '@conduit/core'

/** The JSON body of every error the gateway sends (documented as `ErrorResponse` in OpenAPI). */
export interface ErrorBody {
  status: number
  code: string
  message: string
  retryable: boolean
  correlationId: string
  /** ValidationError: `{ target, issues }`; HandledError: whatever the handler attached */
  data?: unknown
}

export interface ErrorReply {
  status: number
  body: ErrorBody
}

/**
 * Maps anything thrown while serving a request to a status and body. Conduit errors keep their
 * status, code, message and data; a 500 of any origin gets a generic message naming the
 * correlation id, so neither stacks nor internal messages reach the client.
 */
export function toErrorReply(error: unknown, correlationId: string, logger: Logger): ErrorReply {
  if (isConduitError(error) && isClientVisible(error.status)) {
    if (error.code === 'VALIDATION_FAILED' && targetOf(error.data) === 'output') {
      // The handler broke its own contract: that is a server fault, not a bad request.
      logger.error({ err: error, correlationId }, 'command output failed validation')
      return internal(correlationId)
    }
    const body: ErrorBody = {
      status: error.status,
      code: error.code,
      message: error.message,
      retryable: error.retryable,
      correlationId,
    }
    if (error.data !== undefined) body.data = error.data
    return { status: error.status, body }
  }
  // Errors already generic on the wire (remote 500s) were logged by the handling service.
  if (!isConduitError(error) || error.code !== 'INTERNAL') {
    logger.error({ err: error, correlationId }, 'request failed with an unhandled error')
  }
  return internal(correlationId)
}

function internal(correlationId: string): ErrorReply {
  const error = new UnhandledError(correlationId)
  return {
    status: 500,
    body: { status: 500, code: error.code, message: error.message, retryable: false, correlationId },
  }
}

// 500 is the only status whose message may carry internals (local DefinitionError, CapabilityError, ...).
function isClientVisible(status: number): boolean {
  return Number.isInteger(status) && status >= 400 && status <= 599 && status !== 500
}

function targetOf(data: unknown): unknown {
  return typeof data === 'object' && data !== null ? (data as { target?: unknown }).target : undefined
}

export const requestErrors = {
  unauthorized: (message = 'Authentication required') =>
    new HandledError(401, message, undefined, 'UNAUTHORIZED'),
  payloadTooLarge: (limit: number) =>
    new HandledError(413, `Request body exceeds the limit of ${limit} bytes`, { limit }, 'PAYLOAD_TOO_LARGE'),
  malformedJson: (reason: string) =>
    new HandledError(400, `Malformed JSON body: ${reason}`, undefined, 'MALFORMED_JSON'),
  unsupportedMediaType: (type: string) =>
    new HandledError(
      415,
      `Expected an application/json body, got ${type}`,
      undefined,
      'UNSUPPORTED_MEDIA_TYPE',
    ),
  notFound: (method: string, path: string) =>
    new HandledError(404, `No route for ${method} ${path}`, undefined, 'ROUTE_NOT_FOUND'),
}

/** JSON Schema of ErrorBody, for the OpenAPI document. */
export const errorBodyJsonSchema = {
  type: 'object',
  description: 'Every error response. 500s carry a generic message and the correlation id only.',
  properties: {
    status: { type: 'integer', minimum: 400, maximum: 599 },
    code: { type: 'string', description: 'stable machine-readable code, e.g. VALIDATION_FAILED, NOT_FOUND' },
    message: { type: 'string' },
    retryable: { type: 'boolean' },
    correlationId: { type: 'string', description: 'also sent as the x-correlation-id header' },
    data: {
      description: 'VALIDATION_FAILED: { target, issues[] }; otherwise what the handler attached',
    },
  },
  required: ['status', 'code', 'message', 'retryable', 'correlationId'],
} as const

export const validationErrorDataJsonSchema = {
  type: 'object',
  properties: {
    target: { type: 'string', enum: ['input', 'parameter'] },
    issues: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          path: { type: 'array', items: { type: ['string', 'integer'] } },
          message: { type: 'string' },
          code: { type: 'string' },
        },
        required: ['path', 'message', 'code'],
      },
    },
  },
  required: ['target', 'issues'],
} as const
