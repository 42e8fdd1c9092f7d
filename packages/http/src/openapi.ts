import type { Schema, ServiceDefinition } from '@conduit/core'
import { DefinitionError } from '@conduit/core'
import { z } from 'zod'
import { CORRELATION_HEADER } from './correlation.js'
import { errorBodyJsonSchema, validationErrorDataJsonSchema } from './errorResponses.js'
import type { GatewayRoute } from './routes.js'
import { loadZodToOpenApi, type OpenApiDocument, type RouteConfig } from './zodToOpenApi.js'

export type { OpenApiDocument }

export interface OpenApiOptions {
  title?: string
  version?: string
  description?: string
  servers?: { url: string; description?: string }[]
  /** how protected endpoints authenticate; default: HTTP bearer with JWT */
  securityScheme?: Record<string, unknown>
}

export interface EventStreamDescription {
  path: string
  isPublic: boolean
  eventPattern: string
}

const SECURITY_SCHEME = 'bearerAuth'
const errorContent = (name: string) => ({
  'application/json': { schema: { $ref: `#/components/schemas/${name}` } },
})

// Error responses shared by every operation, referenced from components.responses.
const ERROR_RESPONSES = {
  BadRequest: {
    status: '400',
    description: 'Invalid input or parameter (data: { target, issues }) or malformed JSON',
    schema: 'ValidationErrorResponse',
  },
  Unauthorized: { status: '401', description: 'Missing or invalid credentials', schema: 'ErrorResponse' },
  Forbidden: {
    status: '403',
    description: 'Authenticated, but a guard denied the call',
    schema: 'ErrorResponse',
  },
  PayloadTooLarge: {
    status: '413',
    description: 'Request body over the gateway limit',
    schema: 'ErrorResponse',
  },
  UnsupportedMediaType: {
    status: '415',
    description: 'Request body is not application/json',
    schema: 'ErrorResponse',
  },
  InternalError: {
    status: '500',
    description: 'Unexpected failure: a generic message and the correlation id',
    schema: 'ErrorResponse',
  },
  Unavailable: {
    status: '503',
    description: 'No instance handles the command, or the bridge is down',
    schema: 'ErrorResponse',
  },
  Timeout: {
    status: '504',
    description: 'The command did not answer before its deadline',
    schema: 'ErrorResponse',
  },
  OtherError: {
    status: 'default',
    description: 'Any other error the handler raised on purpose (404, 409, ...)',
    schema: 'ErrorResponse',
  },
} as const

/**
 * Generates the OpenAPI 3.1 document from the command definitions' zod schemas. Asynchronous
 * because @asteasolutions/zod-to-openapi is loaded on first use, not when this module loads.
 */
export async function buildOpenApiDocument(
  services: readonly ServiceDefinition<any>[],
  routes: readonly GatewayRoute[],
  options: OpenApiOptions,
  eventStream?: EventStreamDescription,
): Promise<OpenApiDocument> {
  const { OpenAPIRegistry, OpenApiGeneratorV31 } = await loadZodToOpenApi()
  const registry = new OpenAPIRegistry()
  registry.registerComponent('schemas', 'ErrorResponse', errorBodyJsonSchema)
  registry.registerComponent('schemas', 'ValidationErrorResponse', {
    allOf: [
      { $ref: '#/components/schemas/ErrorResponse' },
      { type: 'object', properties: { data: validationErrorDataJsonSchema } },
    ],
  })
  for (const [name, response] of Object.entries(ERROR_RESPONSES)) {
    registry.registerComponent('responses', name, {
      description: response.description,
      headers: { [CORRELATION_HEADER]: { $ref: '#/components/headers/CorrelationId' } },
      content: errorContent(response.schema),
    })
  }
  registry.registerComponent('headers', 'CorrelationId', {
    description: 'The request correlation id, echoed or generated',
    schema: { type: 'string' },
  })
  registry.registerComponent(
    'securitySchemes',
    SECURITY_SCHEME,
    options.securityScheme ?? { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
  )
  for (const route of routes) registry.registerPath(operationOf(route))
  if (eventStream) registry.registerPath(eventStreamOperation(eventStream))

  try {
    return new OpenApiGeneratorV31(registry.definitions).generateDocument({
      openapi: '3.1.0',
      info: {
        title: options.title ?? 'Conduit API',
        version: options.version ?? '1.0.0',
        ...(options.description === undefined ? {} : { description: options.description }),
      },
      ...(options.servers === undefined ? {} : { servers: options.servers }),
      tags: tagsOf(services, routes, eventStream),
    })
  } catch (error) {
    throw new DefinitionError(`Cannot generate the OpenAPI document: ${(error as Error).message}`)
  }
}

function operationOf(route: GatewayRoute): RouteConfig {
  const { command } = route
  const http = command.http!
  const responses: RouteConfig['responses'] = {}
  responses[route.successStatus] =
    route.successStatus === 204
      ? { description: 'Done, no content' }
      : { description: 'Success', content: { 'application/json': { schema: command.output } } }
  const errors: (keyof typeof ERROR_RESPONSES)[] = ['BadRequest']
  if (!route.isPublic) errors.push('Unauthorized', 'Forbidden')
  if (route.readsBody) errors.push('PayloadTooLarge', 'UnsupportedMediaType')
  errors.push('InternalError', 'Unavailable', 'Timeout', 'OtherError')
  for (const name of errors)
    responses[ERROR_RESPONSES[name].status] = { $ref: `#/components/responses/${name}` }

  const { params, query } = splitParameter(command.parameter, route.pathParameters)
  const request: NonNullable<RouteConfig['request']> = {}
  if (params) request.params = params
  if (query) request.query = query
  if (route.readsBody) {
    request.body = {
      required: route.emptyPayload !== undefined,
      content: { 'application/json': { schema: command.input } },
    }
  }
  return {
    method: route.method.toLowerCase() as RouteConfig['method'],
    path: route.openApiPath,
    operationId: route.operationId,
    summary: http.summary ?? command.name,
    ...(command.description === undefined ? {} : { description: command.description }),
    tags: [...route.tags],
    security: route.isPublic ? [] : [{ [SECURITY_SCHEME]: [] }],
    request,
    responses,
  }
}

type ObjectSchema = z.ZodObject<Record<string, z.ZodType>>

/**
 * The command's `parameter` schema describes path and query values together: keys named in
 * the path are path parameters, the others are query parameters. A path parameter the schema
 * does not declare is documented as a string, which is what the gateway passes.
 */
function splitParameter(
  parameter: Schema | undefined,
  pathParameters: readonly string[],
): { params: ObjectSchema | undefined; query: ObjectSchema | undefined } {
  const shape = shapeOf(parameter)
  const params =
    pathParameters.length === 0
      ? undefined
      : z.object(Object.fromEntries(pathParameters.map((name) => [name, shape?.[name] ?? z.string()])))
  const queryEntries = Object.entries(shape ?? {}).filter(([name]) => !pathParameters.includes(name))
  return { params, query: queryEntries.length === 0 ? undefined : z.object(Object.fromEntries(queryEntries)) }
}

function shapeOf(schema: Schema | undefined): Record<string, z.ZodType> | undefined {
  const shape = (schema as { shape?: unknown } | undefined)?.shape
  return typeof shape === 'object' && shape !== null ? (shape as Record<string, z.ZodType>) : undefined
}

function eventStreamOperation(stream: EventStreamDescription): RouteConfig {
  return {
    method: 'get',
    path: stream.path,
    operationId: 'gateway_eventStream',
    summary: 'Stream events (Server-Sent Events)',
    description: `Streams events matching \`${stream.eventPattern}\`, narrowed by the \`event\` query pattern. Each SSE message has the event name as \`event\`, the envelope id as \`id\` and the JSON payload as \`data\`.`,
    tags: ['events'],
    security: stream.isPublic ? [] : [{ [SECURITY_SCHEME]: [] }],
    request: {
      query: z.object({
        event: z
          .string()
          .optional()
          .describe("event name or pattern: '*' one segment, final '#' one or more"),
      }),
    },
    responses: {
      200: {
        description: 'An open event stream',
        content: { 'text/event-stream': { schema: { type: 'string' } } },
      },
      400: { $ref: '#/components/responses/BadRequest' },
      ...(stream.isPublic ? {} : { 401: { $ref: '#/components/responses/Unauthorized' } }),
      503: { $ref: '#/components/responses/Unavailable' },
    },
  }
}

function tagsOf(
  services: readonly ServiceDefinition<any>[],
  routes: readonly GatewayRoute[],
  eventStream: EventStreamDescription | undefined,
): { name: string; description?: string }[] {
  const descriptions = new Map<string, string | undefined>()
  for (const service of services)
    descriptions.set(service.name, service.description ?? `${service.name} v${service.version}`)
  const names = new Set(routes.flatMap((route) => route.tags))
  if (eventStream) names.add('events')
  return [...names].map((name) => {
    const description = name === 'events' ? 'Server-Sent Events from the bridge' : descriptions.get(name)
    return description === undefined ? { name } : { name, description }
  })
}
