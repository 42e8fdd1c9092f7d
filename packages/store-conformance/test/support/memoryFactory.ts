import { memoryStateStore, type StateStore } from '@conduit/core'

/** Each namespace is its own memory store, as namespaces are separate on a server. */
const byNamespace = new Map<string, StateStore>()

export function createStore(namespace: string): StateStore {
  let store = byNamespace.get(namespace)
  if (!store) {
    store = memoryStateStore()
    byNamespace.set(namespace, store)
  }
  return store
}
