import { randomUUID } from 'node:crypto'
import { postgresStateStore } from '@conduit/postgres'
import { redisStateStore } from '@conduit/redis'
import { createClient } from '@redis/client'
import pg from 'pg'
import { createNatsStateStore } from '../../packages/nats/src/index.js'
import { connect, Kvm } from '../../packages/nats/src/testing.js'
import { alternatingTrials, concurrently, spread } from '../lib/measure.js'
import type { StateStore } from '../lib/workspace.js'
import type { BenchRow, BenchSuite } from '../types.js'

// Each store driver beside its server's own client doing the same reads and writes in the same
// run, 50 operations in flight on both sides. The raw side JSON-encodes and decodes the same
// value, so the ratio is what the store adds: key and value checks, the driver's version
// bookkeeping and, for set and update, conditional writes. The raw "update" is a plain read
// then an unconditional write (not atomic: a lower bound on what a safe update costs).

const REDIS_URL = process.env.CONDUIT_REDIS_URL ?? 'redis://127.0.0.1:6379'
const POSTGRES_URL = process.env.CONDUIT_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222'
const IN_FLIGHT = 50
const TRIALS = 5
const TRIAL_MS = 400
const KEYS = 100
const VALUE = { userId: 'u-42', name: 'Ada Lovelace', email: 'ada@example.org', visits: 0 }

interface RawSide {
  label: string
  get(key: string): Promise<unknown>
  set(key: string, value: unknown): Promise<unknown>
  close(): Promise<void>
}

const alternating = (sides: Parameters<typeof alternatingTrials>[0]) =>
  alternatingTrials(sides, { trials: TRIALS, trialMs: TRIAL_MS, minCount: 500 })

/** `n` operations, IN_FLIGHT at a time, over KEYS keys; resolves with the elapsed ms. */
const run = (operation: (key: string) => Promise<unknown>) => (n: number) =>
  concurrently((index) => operation(`bench:${index % KEYS}`), n, IN_FLIGHT)

async function measureDriver(driver: string, store: StateStore, raw: RawSide): Promise<BenchRow[]> {
  for (let index = 0; index < KEYS; index++) {
    await store.set(`bench:${index}`, VALUE)
    await raw.set(`raw:bench:${index}`, VALUE)
  }
  const cells: [string, Parameters<typeof alternatingTrials>[0], string][] = [
    ['get', { conduit: run((key) => store.get(key)), baseline: run((key) => raw.get(`raw:${key}`)) }, 'get'],
    [
      'set',
      { conduit: run((key) => store.set(key, VALUE)), baseline: run((key) => raw.set(`raw:${key}`, VALUE)) },
      'set',
    ],
    [
      'update (read, change, conditional write)',
      {
        conduit: run((key) =>
          store.update<typeof VALUE>(key, (current) => ({ ...VALUE, visits: (current?.visits ?? 0) + 1 }), {
            maxAttempts: 1000,
          }),
        ),
        baseline: run(async (key) => {
          const current = (await raw.get(`raw:${key}`)) as typeof VALUE | undefined
          await raw.set(`raw:${key}`, { ...VALUE, visits: (current?.visits ?? 0) + 1 })
        }),
      },
      'get + set, not atomic',
    ],
  ]
  const rows: BenchRow[] = []
  for (const [name, sides, rawWhat] of cells) {
    const { conduit, baseline, trials, cpuNote } = await alternating(sides)
    rows.push({
      suite: 'stores',
      name: `${driver} ${name}, ${IN_FLIGHT} in flight`,
      unit: 'ops/s',
      conduit,
      baseline,
      baselineLabel: `${raw.label} ${rawWhat}`,
      higherIsBetter: true,
      note: `median of ${TRIALS} alternating trials of ~${TRIAL_MS} ms over ${KEYS} keys; conduit ${spread(trials.conduit)}, baseline ${spread(trials.baseline)} ops/s; ${cpuNote}`,
    })
  }
  return rows
}

async function rawRedis(): Promise<RawSide> {
  const client = createClient({ url: REDIS_URL })
  await client.connect()
  return {
    label: '@redis/client GET/SET of the JSON',
    get: async (key) => {
      const value = await client.get(key)
      return value === null ? undefined : JSON.parse(value)
    },
    set: (key, value) => client.set(key, JSON.stringify(value)),
    close: async () => {
      for (let index = 0; index < KEYS; index++) await client.del(`raw:bench:${index}`)
      client.destroy()
    },
  }
}

async function rawPostgres(): Promise<RawSide> {
  const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 10 })
  const table = `bench_raw_${randomUUID().slice(0, 8)}`
  await pool.query(`CREATE TABLE ${table} (key text PRIMARY KEY, value text NOT NULL)`)
  return {
    label: 'pg SELECT / INSERT ... ON CONFLICT of the JSON',
    get: async (key) => {
      const { rows } = await pool.query<{ value: string }>(`SELECT value FROM ${table} WHERE key = $1`, [key])
      return rows[0] === undefined ? undefined : JSON.parse(rows[0].value)
    },
    set: (key, value) =>
      pool.query(
        `INSERT INTO ${table} (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`,
        [key, JSON.stringify(value)],
      ),
    close: async () => {
      await pool.query(`DROP TABLE ${table}`)
      await pool.end()
    },
  }
}

/** Raw KV on its own bucket; closing also removes the bucket the store created (`storeBucket`). */
async function rawNatsKv(bucket: string, storeBucket: string): Promise<RawSide> {
  const nc = await connect({ servers: NATS_URL })
  const kv = await new Kvm(nc).create(bucket)
  return {
    label: '@nats-io/kv get/put of the JSON',
    get: async (key) => {
      const entry = await kv.get(key.replaceAll(':', '_'))
      return entry?.operation === 'PUT' ? entry.json() : undefined
    },
    set: (key, value) => kv.put(key.replaceAll(':', '_'), JSON.stringify(value)),
    close: async () => {
      await kv.destroy()
      await (await new Kvm(nc).open(storeBucket)).destroy()
      await nc.drain()
    },
  }
}

async function withDriver(driver: string, store: StateStore, raw: Promise<RawSide>): Promise<BenchRow[]> {
  const rawSide = await raw
  try {
    return await measureDriver(driver, store, rawSide)
  } finally {
    for await (const key of store.keys()) await store.delete(key)
    await store.close()
    await rawSide.close()
  }
}

const suite: BenchSuite = {
  name: 'stores',
  description:
    'State store drivers beside their servers’ own clients on the same server in the same run (Redis, PostgreSQL, NATS KV on this machine), 50 operations in flight, one JSON value of ~80 bytes over 100 keys.',
  async run() {
    const namespace = `bench-${randomUUID().slice(0, 8)}`
    const bucket = `bench_${randomUUID().slice(0, 8)}`
    return [
      ...(await withDriver('redis', redisStateStore({ namespace, url: REDIS_URL }), rawRedis())),
      ...(await withDriver(
        'postgres',
        postgresStateStore({ namespace, connectionString: POSTGRES_URL }),
        rawPostgres(),
      )),
      ...(await withDriver(
        'nats-kv',
        createNatsStateStore({ bucket: `${bucket}_conduit`, servers: NATS_URL }),
        rawNatsKv(`${bucket}_raw`, `${bucket}_conduit`),
      )),
    ]
  },
}

export default suite
