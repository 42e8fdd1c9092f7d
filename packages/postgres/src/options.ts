import { ConduitError } from '@conduit/core'
import type { Pool, PoolConfig } from 'pg'
import { storableInText } from './keyRange.js'

export const POSTGRES_STORE_NAME = 'postgres'
export const DEFAULT_POSTGRES_TABLE = 'conduit_state'

/**
 * Keys share a btree entry with their namespace, and PostgreSQL refuses index entries above
 * about 2700 bytes (a third of an 8 KiB page): 256 + 2048 leaves room for the tuple header.
 */
export const MAX_NAMESPACE_BYTES = 256
export const DEFAULT_MAX_KEY_BYTES = 1024
export const MAX_KEY_BYTES_LIMIT = 2048
/** default policy, not the server's limit: a text field holds up to 1 GB */
export const DEFAULT_MAX_VALUE_BYTES = 16 * 1024 * 1024
/** node-postgres builds each statement in one buffer; past this, keep the value elsewhere */
export const MAX_VALUE_BYTES_LIMIT = 256 * 1024 * 1024
export const DEFAULT_SWEEP_INTERVAL_MS = 60_000

export interface PostgresStoreOptions {
  /** keys of two namespaces never see each other (one per service, or per service and tenant) */
  namespace: string
  /**
   * A pool you own and close; the store never ends it. Without one, the store opens its own
   * pool from `connectionString` / `connection` (or the PG* environment variables, as `psql`
   * does) on first use and ends it in `close()`.
   */
  pool?: Pool
  connectionString?: string
  /** any other node-postgres pool option: ssl, max, idleTimeoutMillis, ... */
  connection?: Omit<PoolConfig, 'connectionString'>
  /** `name` or `schema.name`: lower-case letters, digits and '_' (default `conduit_state`) */
  table?: string
  /**
   * Create the table (and its expiry index) on first use if missing. Set false where runtime DDL
   * is forbidden and run the migration in docs/stores/postgres.md instead. Default true.
   */
  createTable?: boolean
  /** default 1024, at most 2048 (a btree entry's limit, with the namespace) */
  maxKeyBytes?: number
  /** default 16 MiB, at most 256 MiB */
  maxValueBytes?: number
  /**
   * Expired rows are invisible at once; a write deletes up to 1000 of the table's expired
   * rows at most this often, in the background. 0 turns the sweep off (e.g. with pg_cron).
   */
  sweepIntervalMs?: number
}

export interface ResolvedOptions {
  readonly namespace: string
  /** quoted, ready to splice into SQL */
  readonly table: string
  /** unquoted, as the user wrote it: names derived objects and the advisory lock */
  readonly tableName: string
  readonly createTable: boolean
  readonly maxKeyBytes: number
  readonly maxValueBytes: number
  readonly sweepIntervalMs: number
}

// One name part, lower case so that the quoted and unquoted spellings name the same table;
// at most 48 characters so that `<table>_expires_at` stays within PostgreSQL's 63.
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,47}$/

function invalid(message: string): never {
  throw new ConduitError(500, 'INVALID_OPTION', `postgres store: ${message}`, false)
}

function limit(name: string, value: number | undefined, fallback: number, max: number): number {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || value < 1 || value > max) {
    invalid(`${name} must be a whole number from 1 to ${max}, got ${value}`)
  }
  return value
}

export function quoteTable(table: string): string {
  const parts = table.split('.')
  if (parts.length > 2 || !parts.every((part) => IDENTIFIER.test(part))) {
    invalid(
      `table ${JSON.stringify(table)} must be \`name\` or \`schema.name\`, each lower-case letters, digits or '_' (at most 48)`,
    )
  }
  return parts.map((part) => `"${part}"`).join('.')
}

export function resolveOptions(options: PostgresStoreOptions): ResolvedOptions {
  const { namespace } = options
  if (typeof namespace !== 'string' || namespace === '' || !storableInText(namespace)) {
    invalid('namespace must be a non-empty string without NUL characters or lone surrogates')
  }
  if (Buffer.byteLength(namespace, 'utf8') > MAX_NAMESPACE_BYTES) {
    invalid(`namespace must be at most ${MAX_NAMESPACE_BYTES} bytes`)
  }
  if (options.pool && (options.connectionString !== undefined || options.connection !== undefined)) {
    invalid('pass either a pool or connection options, not both')
  }
  const sweepIntervalMs = options.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS
  if (!Number.isSafeInteger(sweepIntervalMs) || sweepIntervalMs < 0) {
    invalid(`sweepIntervalMs must be a whole number of milliseconds >= 0, got ${sweepIntervalMs}`)
  }
  const tableName = options.table ?? DEFAULT_POSTGRES_TABLE
  return {
    namespace,
    table: quoteTable(tableName),
    tableName,
    createTable: options.createTable ?? true,
    maxKeyBytes: limit('maxKeyBytes', options.maxKeyBytes, DEFAULT_MAX_KEY_BYTES, MAX_KEY_BYTES_LIMIT),
    maxValueBytes: limit(
      'maxValueBytes',
      options.maxValueBytes,
      DEFAULT_MAX_VALUE_BYTES,
      MAX_VALUE_BYTES_LIMIT,
    ),
    sweepIntervalMs,
  }
}
