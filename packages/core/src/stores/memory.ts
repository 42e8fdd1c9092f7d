import type { ConfigStore, SecretStore, StateStore, Stores } from './contracts.js'

// Values are cloned in and out so a handler never shares a mutable object with the store,
// just as with a store behind a network.
function cloneValue<T>(value: T): T {
  return value === undefined ? value : structuredClone(value)
}

export function memoryStateStore(initial: Record<string, unknown> = {}): StateStore {
  const data = new Map<string, unknown>(Object.entries(initial).map(([k, v]) => [k, cloneValue(v)]))
  return {
    name: 'memory',
    async get<T>(key: string) {
      return cloneValue(data.get(key)) as T | undefined
    },
    async set(key, value) {
      data.set(key, cloneValue(value))
    },
    async delete(key) {
      data.delete(key)
    },
    async keys(prefix = '') {
      return [...data.keys()].filter((key) => key.startsWith(prefix))
    },
  }
}

export function memoryConfigStore(initial: Record<string, unknown> = {}): ConfigStore {
  const state = memoryStateStore(initial)
  return { name: 'memory', get: state.get, set: state.set }
}

export function memorySecretStore(initial: Record<string, string> = {}): SecretStore {
  const data = new Map(Object.entries(initial))
  return {
    name: 'memory',
    async get(key) {
      return data.get(key)
    },
  }
}

export function memoryStores(overrides: Partial<Stores> = {}): Stores {
  return {
    state: overrides.state ?? memoryStateStore(),
    config: overrides.config ?? memoryConfigStore(),
    secret: overrides.secret ?? memorySecretStore(),
  }
}
