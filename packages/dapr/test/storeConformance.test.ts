import { fileURLToPath } from 'node:url'
import { testStateStore } from '@conduit/store-conformance'
import { afterAll } from 'vitest'
import { stopEmulator } from './support/storeFactory.js'

testStateStore({
  name: 'dapr',
  factoryModule: fileURLToPath(new URL('./support/storeFactory.ts', import.meta.url)),
})

afterAll(() => stopEmulator())
