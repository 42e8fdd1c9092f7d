// The store conformance suite's factory for Dapr state: against the sidecar at DAPR_HTTP_PORT
// (a real daprd, or the emulator a parent process started), else against the emulator (a TEST
// FIXTURE written from Dapr's documented API) started here, in process. Its port goes into
// DAPR_HTTP_PORT, so the race test's child processes (`node --import tsx`, the parent's
// environment) share its state. No vitest here.
import type { StateStore } from '@conduit/core'
import { daprStateStore } from '../../src/index.js'
import { DaprEmulator } from '../../src/testing/index.js'

let emulator: Promise<DaprEmulator> | undefined

async function sidecarPort(): Promise<number> {
  const fromEnv = process.env.DAPR_HTTP_PORT
  if (fromEnv) return Number(fromEnv)
  emulator ??= DaprEmulator.start({ stateStores: ['statestore'] })
  const sidecar = await (await emulator).addSidecar({ appId: 'store-conformance' })
  process.env.DAPR_HTTP_PORT = String(sidecar.daprHttpPort)
  return sidecar.daprHttpPort
}

export async function createStore(namespace: string): Promise<StateStore> {
  return daprStateStore({ daprHttpPort: await sidecarPort(), namespace })
}

/** Stops the emulator this process started, if any (the test file calls it after the suite). */
export async function stopEmulator(): Promise<void> {
  const started = emulator
  emulator = undefined
  if (!started) return
  delete process.env.DAPR_HTTP_PORT
  await (await started).close()
}
