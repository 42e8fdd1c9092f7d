import { createRequire } from 'node:module'
import type { Schema } from '@conduit/core'

/*
 * @asteasolutions/zod-to-openapi is loaded through require with the narrow types below on
 * purpose: importing its declarations augments zod's `ZodType` with `.openapi()` for the whole
 * TypeScript program, which breaks code elsewhere in the workspace that reaches zod by another
 * declaration path. The package ships CommonJS only, so require is what Node does anyway.
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

interface ZodToOpenApi {
  OpenAPIRegistry: new () => Registry
  OpenApiGeneratorV31: new (
    definitions: unknown[],
  ) => {
    generateDocument(
      config: Omit<OpenApiDocument, 'paths' | 'components'> & { openapi: '3.1.0' },
    ): OpenApiDocument
  }
}

export const { OpenAPIRegistry, OpenApiGeneratorV31 } = createRequire(import.meta.url)(
  '@asteasolutions/zod-to-openapi',
) as ZodToOpenApi
