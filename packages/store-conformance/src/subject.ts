import { randomUUID } from 'node:crypto'
import { pathToFileURL } from 'node:url'
import type { StateStore } from '@conduit/core'

/** What a driver's test file hands the suite. */
export interface StateStoreSubject {
  /** the driver's name, in test titles */
  readonly name: string
  /**
   * Path (or file URL) of a module exporting `createStore(namespace: string)`, resolving to a
   * StateStore on the real server. The race test imports it in two child processes (with
   * `--import tsx` and the parent's environment), so it reads its server's address from
   * `process.env` with a loopback default and never depends on vitest.
   */
  readonly factoryModule: string
  /**
   * Set (with the reason) for a store that lives inside one process, such as the memory store:
   * the race then runs its two writers as concurrent tasks in the test process.
   */
  readonly inProcessOnly?: string
}

export type StoreFactory = (namespace: string) => StateStore | Promise<StateStore>

export async function loadFactory(factoryModule: string): Promise<StoreFactory> {
  const url = factoryModule.startsWith('file:') ? factoryModule : pathToFileURL(factoryModule).href
  const module = (await import(url)) as { createStore?: StoreFactory }
  if (typeof module.createStore !== 'function') {
    throw new TypeError(`${factoryModule} must export createStore(namespace: string)`)
  }
  return module.createStore
}

/** A namespace no earlier run used: runs never see each other's keys. */
export function uniqueNamespace(label: string): string {
  return `conformance_${label}_${randomUUID().slice(0, 8)}`
}

/** Opens stores on fresh namespaces and, at the end, deletes what they hold and closes them. */
export class StoreCase {
  private readonly opened: StateStore[] = []

  constructor(private readonly factory: () => StoreFactory) {}

  async fresh(label = 'case', namespace = uniqueNamespace(label)): Promise<StateStore> {
    const store = await this.factory()(namespace)
    this.opened.push(store)
    return store
  }

  async cleanUp(): Promise<void> {
    const stores = this.opened.splice(0)
    await Promise.allSettled(stores.map((store) => emptied(store).finally(() => store.close())))
  }
}

async function emptied(store: StateStore): Promise<void> {
  const batch: string[] = []
  const flush = () => Promise.all(batch.splice(0).map((key) => store.delete(key)))
  for await (const key of store.keys()) {
    batch.push(key)
    if (batch.length >= 200) await flush()
  }
  await flush()
}

/** Every key a store lists for `prefix`, with how often each was listed. */
export async function listed(
  store: StateStore,
  prefix = '',
  pageSize?: number,
): Promise<Map<string, number>> {
  const seen = new Map<string, number>()
  for await (const key of store.keys(prefix, pageSize === undefined ? {} : { pageSize })) {
    seen.set(key, (seen.get(key) ?? 0) + 1)
  }
  return seen
}
