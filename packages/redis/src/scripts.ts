import { createHash } from 'node:crypto'
import type { RedisCommandClient } from './connection.js'

/**
 * Conditional writes run as Lua scripts: Redis runs a script atomically, so the version check
 * and the write are one step on the server and one round trip for the client. An entry is a hash
 * { v: value, ver: version } under one key, so the TTL of that key covers both fields.
 */
export interface LuaScript {
  readonly source: string
  readonly sha1: string
}

function luaScript(source: string): LuaScript {
  return { source, sha1: createHash('sha1').update(source).digest('hex') }
}

/**
 * KEYS[1] the entry; ARGV: value, new version, condition ('' none, 'absent', 'version'),
 * expected version, ttl in ms ('' for none). Returns 1 when written, 0 when the condition failed.
 * A write without a TTL clears an earlier one, as SET does.
 */
export const SET_ENTRY = luaScript(`
local condition = ARGV[3]
if condition == 'absent' then
  if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
elseif condition == 'version' then
  if redis.call('HGET', KEYS[1], 'ver') ~= ARGV[4] then return 0 end
end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'ver', ARGV[2])
if ARGV[5] == '' then
  redis.call('PERSIST', KEYS[1])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
end
return 1
`)

/** KEYS[1] the entry; ARGV[1] the expected version. Returns 1 when deleted, 0 otherwise. */
export const DELETE_ENTRY = luaScript(`
if redis.call('HGET', KEYS[1], 'ver') ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
`)

/**
 * EVALSHA, so the script's text crosses the network only once per server: the first call after
 * the server started (or flushed its scripts) gets NOSCRIPT and sends the text with EVAL.
 */
export async function runScript(
  client: RedisCommandClient,
  script: LuaScript,
  keys: readonly string[],
  args: readonly string[],
): Promise<unknown> {
  const tail = [String(keys.length), ...keys, ...args]
  try {
    return await client.sendCommand(['EVALSHA', script.sha1, ...tail])
  } catch (error) {
    if (!(error instanceof Error && error.message.startsWith('NOSCRIPT'))) throw error
    return client.sendCommand(['EVAL', script.source, ...tail])
  }
}
