import type { z } from 'zod'
import { ValidationError, type ValidationIssue, type ValidationTarget } from '../errors/errors.js'

export function toValidationIssues(error: z.ZodError): ValidationIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map((segment) => (typeof segment === 'symbol' ? String(segment) : segment)),
    message: issue.message,
    code: issue.code,
  }))
}

/**
 * Parses with a schema, throwing a 400 ValidationError that names what was wrong and where.
 * Synchronous when the schema is (the common case, and the hot path); a Promise only for
 * schemas with async refinements. A null schema accepts anything.
 */
export function parseValue(
  schema: z.ZodType | null | undefined,
  value: unknown,
  target: ValidationTarget,
  subject: string,
): unknown {
  if (!schema) return value
  let result: z.ZodSafeParseResult<unknown>
  try {
    result = schema.safeParse(value)
  } catch (error) {
    if (!(error instanceof Error && error.message.includes('async'))) throw error
    return schema.safeParseAsync(value).then((asyncResult) => unwrap(asyncResult, target, subject))
  }
  return unwrap(result, target, subject)
}

function unwrap(result: z.ZodSafeParseResult<unknown>, target: ValidationTarget, subject: string): unknown {
  if (!result.success) throw new ValidationError(target, toValidationIssues(result.error), subject)
  return result.data
}
