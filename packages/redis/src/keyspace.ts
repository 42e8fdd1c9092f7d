/** The characters SCAN's MATCH treats as glob syntax, and the escape itself. */
const GLOB_SPECIAL = /[*?[\]\\]/g

/** `literal` as a MATCH pattern that matches exactly it (Redis globs take `\` as an escape). */
export function escapeGlob(literal: string): string {
  return literal.replace(GLOB_SPECIAL, '\\$&')
}

/** Store keys to Redis keys and back: `<namespace>:<key>`. */
export interface Keyspace {
  toRedis(key: string): string
  fromRedis(redisKey: string): string
  /** the MATCH pattern for every key of the namespace starting with `prefix` */
  matching(prefix: string): string
}

export function keyspace(namespace: string): Keyspace {
  const head = `${namespace}:`
  return {
    toRedis: (key) => head + key,
    fromRedis: (redisKey) => redisKey.slice(head.length),
    matching: (prefix) => `${escapeGlob(head + prefix)}*`,
  }
}
