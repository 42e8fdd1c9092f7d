import type { Schema } from '@conduit/core'

/*
 * @asteasolutions/zod-to-openapi is imported on first use, with a plain dynamic `import()`: a
 * process (or a Lambda function) that never serves `/openapi.json` never loads it, and a
 * bundler sees an ordinary specifier it can bundle or leave external. The narrow types below
 * keep the package's own types (and their `.openapi()` augmentation of zod) out of the
 * declarations this package ships.
 */

type JsonObject = Record<string, unknown>
type MediaContent = Record<string, { schema: Schema | JsonObject }>

export interface RouteConfig {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete'
  path: string
  operationId: string
  summary?: string
  description?: string
  tags: string[]
  security: Record<string, string[]>[]
  request: {
    params?: Schema
    query?: Schema
    body?: { required: boolean; content: MediaContent }
  }
  responses: Record<string, { description: string; content?: MediaContent } | { $ref: string }>
}

export interface OpenApiDocument {
  openapi: string
  info: { title: string; version: string; description?: string }
  servers?: { url: string; description?: string }[]
  tags?: { name: string; description?: string }[]
  paths: Record<string, Record<string, JsonObject>>
  components?: Record<string, Record<string, JsonObject>>
}

interface Registry {
  readonly definitions: unknown[]
  registerComponent(type: string, name: string, component: JsonObject): void
  registerPath(route: RouteConfig): void
}

export interface ZodToOpenApi {
  OpenAPIRegistry: new () => Registry
  OpenApiGeneratorV31: new (
    definitions: unknown[],
  ) => {
    generateDocument(
      config: Omit<OpenApiDocument, 'paths' | 'components'> & { openapi: '3.1.0' },
    ): OpenApiDocument
  }
}

let loading: Promise<ZodToOpenApi> | undefined

/** Loads @asteasolutions/zod-to-openapi once, on first call. */
export function loadZodToOpenApi(): Promise<ZodToOpenApi> {
  loading ??= import('@asteasolutions/zod-to-openapi').then(
    // CommonJS through Node's loader or a bundler: the named exports, or `default` holding them.
    (module: unknown) =>
      ('OpenAPIRegistry' in (module as object)
        ? module
        : (module as { default: unknown }).default) as ZodToOpenApi,
    (error: unknown) => {
      loading = undefined // a later request tries again
      throw error
    },
  )
  return loading
}
