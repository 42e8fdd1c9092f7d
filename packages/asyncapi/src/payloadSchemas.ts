import type { Schema } from '@conduit/core'
import { z } from 'zod'
import type { JsonSchema } from './wireSchemas.js'

/**
 * Collects the payload schemas of a document under components.schemas, converted with zod's own
 * `z.toJSONSchema` (draft-07, the AsyncAPI default). Definitions zod extracts (schemas with an
 * `id` in the global registry, cycles) are hoisted beside them and their `$ref`s rewritten, since
 * a `#/definitions/...` reference would resolve against the AsyncAPI document, not the schema.
 */
export class PayloadSchemas {
  readonly components: Record<string, JsonSchema> = {}

  /**
   * Registers `schema` as `name` and returns a reference to it. `io` picks the side of
   * transforms and defaults: 'input' for what a handler accepts, 'output' for what it produces.
   */
  add(name: string, schema: Schema, io: 'input' | 'output'): JsonSchema {
    const converted = z.toJSONSchema(schema, { target: 'draft-7', unrepresentable: 'any', io }) as JsonSchema
    const { $schema: _dialect, $id: _id, definitions, ...root } = converted
    const renames = new Map<string, string>()
    for (const definition of Object.keys((definitions as Record<string, unknown> | undefined) ?? {})) {
      // zod names anonymous extractions __schema0, __schema1...: unique per conversion only
      renames.set(definition, definition.startsWith('__') ? `${name}${definition.slice(1)}` : definition)
    }
    for (const [definition, body] of Object.entries((definitions as Record<string, JsonSchema>) ?? {})) {
      this.components[renames.get(definition)!] ??= rewriteRefs(body, renames, name) as JsonSchema
    }
    this.components[name] = rewriteRefs(root, renames, name) as JsonSchema
    return { $ref: `#/components/schemas/${name}` }
  }
}

function rewriteRefs(value: unknown, renames: Map<string, string>, root: string): unknown {
  if (Array.isArray(value)) return value.map((item) => rewriteRefs(item, renames, root))
  if (typeof value !== 'object' || value === null) return value
  const result: Record<string, unknown> = {}
  for (const [key, item] of Object.entries(value)) {
    if (key === '$ref' && typeof item === 'string') {
      const local = /^#\/definitions\/(.+)$/.exec(item)
      if (local) {
        result[key] = `#/components/schemas/${renames.get(local[1]!) ?? local[1]}`
        continue
      }
      if (item === '#') {
        result[key] = `#/components/schemas/${root}` // a cycle back to the root schema
        continue
      }
    }
    result[key] = rewriteRefs(item, renames, root)
  }
  return result
}
