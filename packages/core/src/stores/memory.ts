import { supported } from '../transport/capabilities.js'
import type { ConfigStore, SecretStore, StateStore, Stores } from './contracts.js'
import type { StateDriver, StoreCapabilities, StoredEntry } from './driver.js'
import { createConfigStore, createStateStore } from './stateStore.js'
import { checkKey, encodeValue } from './storedValues.js'

export const memoryStoreCapabilities: StoreCapabilities = Object.freeze({
  conditionalWrites: supported,
  ttl: supported,
  maxKeyBytes: 4096,
  maxValueBytes: 16 * 1024 * 1024,
})

interface MemoryEntry {
  readonly value: string
  readonly version: number
  readonly expiresAt: number | undefined
}

/**
 * The in-process driver. It holds encoded JSON, as a store behind a network does, so a handler
 * never shares a mutable object with the store and the memory store refuses what Redis would.
 */
export function memoryStateDriver(): StateDriver {
  const data = new Map<string, MemoryEntry>()
  let lastVersion = 0
  const live = (key: string): MemoryEntry | undefined => {
    const entry = data.get(key)
    if (entry?.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      data.delete(key)
      return undefined
    }
    return entry
  }
  const stored = (entry: MemoryEntry | undefined): StoredEntry | undefined =>
    entry === undefined ? undefined : { value: entry.value, version: String(entry.version) }
  return {
    name: 'memory',
    capabilities: memoryStoreCapabilities,
    async get(key) {
      return stored(live(key))
    },
    async set(key, value, { ifVersion, ttlMs }) {
      const current = live(key)
      if (ifVersion === null && current !== undefined) return { ok: false }
      if (typeof ifVersion === 'string' && String(current?.version) !== ifVersion) return { ok: false }
      const version = ++lastVersion
      data.set(key, { value, version, expiresAt: ttlMs === undefined ? undefined : Date.now() + ttlMs })
      return { ok: true, version: String(version) }
    },
    async delete(key, { ifVersion }) {
      if (ifVersion !== undefined && String(live(key)?.version) !== ifVersion) return false
      data.delete(key)
      return true
    },
    async *keys(prefix, pageSize) {
      let page: string[] = []
      // A Map iterator sees deletions and appends made while it runs, and each key once.
      for (const key of data.keys()) {
        if (!key.startsWith(prefix) || live(key) === undefined) continue
        page.push(key)
        if (page.length >= pageSize) {
          yield page
          page = []
        }
      }
      if (page.length > 0) yield page
    },
  }
}

/** In-memory state; `initial` values must be JSON like any stored value. */
export function memoryStateStore(initial: Record<string, unknown> = {}): StateStore {
  return createStateStore(seeded(initial))
}

export function memoryConfigStore(initial: Record<string, unknown> = {}): ConfigStore {
  return createConfigStore(seeded(initial))
}

/** A memory driver holding `initial`; a value that is not JSON throws here, at construction. */
function seeded(initial: Record<string, unknown>): StateDriver {
  const driver = memoryStateDriver()
  for (const [raw, value] of Object.entries(initial)) {
    const key = checkKey(driver.name, driver.capabilities, raw)
    // the memory driver applies a write before its promise settles
    void driver.set(key, encodeValue(driver.name, driver.capabilities, key, value), {})
  }
  return driver
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
