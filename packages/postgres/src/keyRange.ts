const MAX_CODE_POINT = 0x10ffff
const FIRST_SURROGATE = 0xd800
const AFTER_SURROGATES = 0xe000
// in a u-mode regex a surrogate pair is one code point, so only an unpaired half matches
const LONE_SURROGATE = /\p{Cs}/u

/**
 * The least string above every string that starts with `prefix`, in code point order (which is
 * UTF-8 byte order, PostgreSQL's `COLLATE "C"`), or undefined when none exists (a prefix of
 * U+10FFFF only). `key >= prefix AND key < bound` is then exactly "starts with prefix", as an
 * index range that needs no LIKE pattern, so no metacharacter can widen it, and one the planner
 * uses even in a generic plan. Incrementing the last code point keeps the bound valid UTF-8.
 */
export function prefixUpperBound(prefix: string): string | undefined {
  const codePoints = Array.from(prefix, (char) => char.codePointAt(0) ?? 0)
  while (codePoints.length > 0) {
    const last = codePoints.pop() ?? MAX_CODE_POINT
    if (last < MAX_CODE_POINT) {
      // surrogates cannot appear in UTF-8 text, so the next code point after U+D7FF is U+E000
      const next = last + 1 === FIRST_SURROGATE ? AFTER_SURROGATES : last + 1
      return String.fromCodePoint(...codePoints, next)
    }
  }
  return undefined
}

/** PostgreSQL text holds neither NUL nor a lone surrogate (node-postgres would send U+FFFD). */
export function storableInText(text: string): boolean {
  return !text.includes('\u0000') && !LONE_SURROGATE.test(text)
}
