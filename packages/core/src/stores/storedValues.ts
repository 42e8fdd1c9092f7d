import { ValidationError, type ValidationIssue } from '../errors/errors.js'
import type { StoreCapabilities } from './driver.js'

const MAX_DEPTH = 256
// in a u-mode regex a surrogate pair is one code point, so only an unpaired half matches
const LONE_SURROGATE = /\p{Cs}/u

/**
 * Finds the first part of `value` that JSON would not carry back unchanged: undefined at the top
 * or in an array (it becomes null), functions, symbols, bigints, NaN and infinities (null),
 * class instances such as Date or Map (a string or `{}`), and cycles. An object property that is
 * undefined is allowed: JSON drops it, as an absent optional field. Returns the issue, if any.
 */
export function findNonJson(
  value: unknown,
  path: (string | number)[] = [],
  seen = new Set<object>(),
): ValidationIssue | undefined {
  const issue = (message: string): ValidationIssue => ({ path, message, code: 'not_json' })
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined
    case 'number':
      return Number.isFinite(value) ? undefined : issue(`${value} is not a JSON number`)
    case 'undefined':
      return issue('undefined is not a JSON value (delete the key instead)')
    case 'object': {
      if (value === null) return undefined
      if (seen.has(value)) return issue('a circular reference cannot be stored as JSON')
      if (path.length >= MAX_DEPTH) return issue(`nested deeper than ${MAX_DEPTH} levels`)
      seen.add(value)
      try {
        if (Array.isArray(value)) {
          for (let index = 0; index < value.length; index++) {
            const found = findNonJson(value[index], [...path, index], seen)
            if (found) return found
          }
          return undefined
        }
        const prototype = Object.getPrototypeOf(value)
        if (prototype !== Object.prototype && prototype !== null) {
          const kind = (value as object).constructor?.name ?? 'an object with a prototype'
          return issue(`${kind} is not a plain JSON object (convert it first, e.g. a Date to an ISO string)`)
        }
        for (const [key, item] of Object.entries(value)) {
          if (item === undefined) continue
          const found = findNonJson(item, [...path, key], seen)
          if (found) return found
        }
        return undefined
      } finally {
        seen.delete(value)
      }
    }
    default:
      return issue(`a ${typeof value} is not a JSON value`)
  }
}

function refuse(storeName: string, key: string, message: string, issue?: ValidationIssue): never {
  throw new ValidationError(
    'state',
    [issue ?? { path: [], message, code: 'invalid_key' }],
    `${storeName} key ${JSON.stringify(truncate(key))}`,
  )
}

function truncate(key: string): string {
  return key.length > 80 ? `${key.slice(0, 80)}...` : key
}

/** Keys are non-empty, well-formed UTF-16 (so UTF-8 can carry them) and within the driver's limit. */
export function checkKey(storeName: string, capabilities: StoreCapabilities, key: unknown): string {
  if (typeof key !== 'string' || key === '') {
    throw new ValidationError(
      'state',
      [{ path: [], message: 'a key must be a non-empty string', code: 'invalid_key' }],
      `${storeName} key`,
    )
  }
  if (LONE_SURROGATE.test(key))
    refuse(storeName, key, 'the key holds a lone surrogate, which UTF-8 cannot encode')
  // PostgreSQL text and many clients cannot hold NUL; one rule for every driver keeps keys portable
  if (key.includes('\u0000')) refuse(storeName, key, 'the key holds a NUL character')
  const bytes = Buffer.byteLength(key, 'utf8')
  if (bytes > capabilities.maxKeyBytes) {
    refuse(
      storeName,
      key,
      `the key is ${bytes} bytes; ${storeName} takes at most ${capabilities.maxKeyBytes}`,
    )
  }
  return key
}

/** Encodes a value for the driver, or throws a ValidationError naming what in it is not JSON. */
export function encodeValue(
  storeName: string,
  capabilities: StoreCapabilities,
  key: string,
  value: unknown,
): string {
  const issue = findNonJson(value)
  if (issue) refuse(storeName, key, issue.message, issue)
  const encoded = JSON.stringify(value)
  const bytes = Buffer.byteLength(encoded, 'utf8')
  if (bytes > capabilities.maxValueBytes) {
    refuse(
      storeName,
      key,
      `the value is ${bytes} bytes as JSON; ${storeName} takes at most ${capabilities.maxValueBytes}`,
      { path: [], message: `${bytes} bytes exceeds ${capabilities.maxValueBytes}`, code: 'too_big' },
    )
  }
  return encoded
}

export function decodeValue<T>(encoded: string): T {
  return JSON.parse(encoded) as T
}
