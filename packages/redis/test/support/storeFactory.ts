// The conformance suite's store factory. The race test imports it in two child processes
// (`node --import tsx`), so it depends on nothing but the package and the environment.
import type { StateStore } from '@conduit/core'
import { DEFAULT_REDIS_URL, redisStateStore } from '../../src/index.js'

export const REDIS_URL = process.env.CONDUIT_REDIS_URL ?? DEFAULT_REDIS_URL

export async function createStore(namespace: string): Promise<StateStore> {
  return redisStateStore({ namespace, url: REDIS_URL })
}
