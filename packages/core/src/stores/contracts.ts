/** Key/value state owned by a service (users, carts, ...). Values are JSON-compatible. */
export interface StateStore {
  readonly name: string
  get<T = unknown>(key: string): Promise<T | undefined>
  set(key: string, value: unknown): Promise<void>
  delete(key: string): Promise<void>
  /** keys starting with `prefix` (all keys without one) */
  keys(prefix?: string): Promise<string[]>
}

/** Runtime configuration values (feature flags, limits). Read-mostly. */
export interface ConfigStore {
  readonly name: string
  get<T = unknown>(key: string): Promise<T | undefined>
  set(key: string, value: unknown): Promise<void>
}

/** Secrets are read-only for handlers. */
export interface SecretStore {
  readonly name: string
  get(key: string): Promise<string | undefined>
}

export interface Stores {
  state: StateStore
  config: ConfigStore
  secret: SecretStore
}
