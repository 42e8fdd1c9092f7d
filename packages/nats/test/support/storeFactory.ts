// The store conformance suite's factory for NATS KV: one shared bucket on the real server, each
// namespace a fresh one. The race test imports this module in child processes (`node --import
// tsx`), so it reads the server from the environment and never touches vitest.
import type { StateStore } from '@conduit/core'
import { StorageType } from '@nats-io/jetstream'
import { Kvm } from '@nats-io/kv'
import { connect } from '@nats-io/transport-node'
import { createNatsStateStore } from '../../src/index.js'

export const CONFORMANCE_BUCKET = 'conduit_store_conformance'
const servers = process.env.NATS_URL ?? 'nats://127.0.0.1:4222'
/** everything a run leaves (values and delete markers) goes away on its own after an hour */
const BUCKET_MAX_AGE_MS = 60 * 60_000

let bucketReady: Promise<void> | undefined

/** Creates the bucket (if missing) with a max age, so no run's leftovers stay on the server. */
function ensureBucket(): Promise<void> {
  bucketReady ??= (async () => {
    const nc = await connect({ servers })
    try {
      await new Kvm(nc).create(CONFORMANCE_BUCKET, { storage: StorageType.Memory, ttl: BUCKET_MAX_AGE_MS })
    } finally {
      await nc.close()
    }
  })()
  return bucketReady
}

export async function createStore(namespace: string): Promise<StateStore> {
  await ensureBucket()
  return createNatsStateStore({ bucket: CONFORMANCE_BUCKET, namespace, servers, storage: 'memory' })
}
