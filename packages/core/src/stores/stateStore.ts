import { CapabilityError, ConflictError } from '../errors/errors.js'
import type { ConfigStore, StateEntry, StateStore, UpdateOptions } from './contracts.js'
import type { StateDriver, StoreDeleteOptions, StoreDriverEntry, StoreWriteOptions } from './driver.js'
import { checkKey, decodeValue, encodeValue } from './storedValues.js'

// A key under constant writes can make one writer lose many times in a row (PostgreSQL holds the row
// lock until the commit is flushed, longer than a read takes): streaks of 17 were measured with
// two writers, so the bound is generous; the jittered backoff keeps the retries cheap.
const DEFAULT_UPDATE_ATTEMPTS = 100
const DEFAULT_PAGE_SIZE = 500
/** backoff between update attempts: random up to 2^attempt ms, capped, so racing writers spread out */
const MAX_UPDATE_BACKOFF_MS = 50

/**
 * The StateStore handlers use, on top of any driver. Everything a driver would otherwise repeat
 * lives here once: key and value checks, JSON encoding, refusing options the driver declared it
 * cannot honour, conflicts as ConflictError, `update` as read-change-conditional-write with
 * bounded retries, and batch fallbacks.
 */
export function createStateStore(driver: StateDriver): StateStore {
  const { name, capabilities } = driver
  const key = (raw: unknown) => checkKey(name, capabilities, raw)

  function requireCapability(capability: 'conditionalWrites' | 'ttl', subject: string): void {
    const declared = capabilities[capability]
    if (!declared.supported)
      throw new CapabilityError(`the ${name} store`, subject, capability, declared.reason)
  }

  function checkWriteOptions(subject: string, options: StoreWriteOptions): StoreWriteOptions {
    if (options.ifVersion !== undefined) requireCapability('conditionalWrites', `${subject} with ifVersion`)
    if (options.ttlMs !== undefined) {
      requireCapability('ttl', `${subject} with ttlMs`)
      if (!Number.isSafeInteger(options.ttlMs) || options.ttlMs <= 0) {
        throw new TypeError(
          `${name} store: ttlMs must be a positive whole number of milliseconds, got ${options.ttlMs}`,
        )
      }
    }
    return options
  }

  async function getEntry<T>(raw: string): Promise<StateEntry<T> | undefined> {
    const stored = await driver.get(key(raw))
    return stored === undefined ? undefined : { value: decodeValue<T>(stored.value), version: stored.version }
  }

  async function set(raw: string, value: unknown, options: StoreWriteOptions = {}): Promise<string> {
    const checkedKey = key(raw)
    const encoded = encodeValue(name, capabilities, checkedKey, value)
    const outcome = await driver.set(
      checkedKey,
      encoded,
      checkWriteOptions(`set(${JSON.stringify(raw)})`, options),
    )
    if (!outcome.ok) {
      throw new ConflictError(
        options.ifVersion === null
          ? `${name} store: key ${JSON.stringify(raw)} already exists`
          : `${name} store: key ${JSON.stringify(raw)} changed since version ${options.ifVersion} was read`,
        { store: name, key: raw },
      )
    }
    return outcome.version
  }

  async function update<T>(
    raw: string,
    change: (current: T | undefined) => T | Promise<T>,
    options: UpdateOptions = {},
  ): Promise<T> {
    requireCapability('conditionalWrites', `update(${JSON.stringify(raw)})`)
    const attempts = options.maxAttempts ?? DEFAULT_UPDATE_ATTEMPTS
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const current = await getEntry<T>(raw)
      const next = await change(current?.value)
      const encoded = encodeValue(name, capabilities, raw, next)
      const writeOptions = checkWriteOptions(`update(${JSON.stringify(raw)})`, {
        ifVersion: current?.version ?? null,
        ...(options.ttlMs === undefined ? {} : { ttlMs: options.ttlMs }),
      })
      const outcome = await driver.set(raw, encoded, writeOptions)
      if (outcome.ok) return next
      if (attempt < attempts) await backoff(attempt)
    }
    throw new ConflictError(
      `${name} store: update of key ${JSON.stringify(raw)} lost to other writers ${attempts} times in a row`,
      { store: name, key: raw, attempts },
    )
  }

  return {
    name,
    capabilities,
    async get<T>(raw: string) {
      return (await getEntry<T>(raw))?.value
    },
    getEntry,
    set,
    async delete(raw: string, options: StoreDeleteOptions = {}) {
      const checkedKey = key(raw)
      if (options.ifVersion !== undefined)
        requireCapability('conditionalWrites', `delete(${JSON.stringify(raw)}) with ifVersion`)
      if (!(await driver.delete(checkedKey, options))) {
        throw new ConflictError(
          `${name} store: key ${JSON.stringify(raw)} changed or is gone since version ${options.ifVersion} was read`,
          { store: name, key: raw },
        )
      }
    },
    update,
    async getMany<T>(keys: readonly string[]) {
      const checked = keys.map(key)
      const stored = driver.getMany
        ? await driver.getMany(checked)
        : await Promise.all(checked.map((k) => driver.get(k)))
      return stored.map((entry) => (entry === undefined ? undefined : decodeValue<T>(entry.value)))
    },
    async setMany(entries, options = {}) {
      checkWriteOptions('setMany', options)
      // Every entry is checked before anything is written, so one bad value writes nothing.
      const prepared: StoreDriverEntry[] = Object.entries(entries).map(([raw, value]) => {
        const checkedKey = key(raw)
        return {
          key: checkedKey,
          value: encodeValue(name, capabilities, checkedKey, value),
          ...(options.ttlMs === undefined ? {} : { ttlMs: options.ttlMs }),
        }
      })
      if (prepared.length === 0) return
      if (driver.setMany) {
        await driver.setMany(prepared)
        return
      }
      for (const entry of prepared) {
        const ttl = entry.ttlMs === undefined ? {} : { ttlMs: entry.ttlMs }
        await driver.set(entry.key, entry.value, ttl)
      }
    },
    keys(prefix = '', options = {}) {
      const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE
      if (!Number.isSafeInteger(pageSize) || pageSize < 1) {
        throw new TypeError(`${name} store: pageSize must be a positive whole number, got ${pageSize}`)
      }
      return flatten(driver.keys(prefix, pageSize))
    },
    async close() {
      await driver.close?.()
    },
  }
}

/** A ConfigStore on a state driver: the same keys, values and checks, read-mostly. */
export function createConfigStore(driver: StateDriver): ConfigStore & { close(): Promise<void> } {
  const state = createStateStore(driver)
  return {
    name: state.name,
    get: state.get,
    async set(key, value) {
      await state.set(key, value)
    },
    close: state.close,
  }
}

async function* flatten(pages: AsyncIterable<readonly string[]>): AsyncGenerator<string> {
  for await (const page of pages) yield* page
}

function backoff(attempt: number): Promise<void> {
  const ms = Math.random() * Math.min(MAX_UPDATE_BACKOFF_MS, 2 ** attempt)
  return new Promise((resolve) => setTimeout(resolve, ms))
}
