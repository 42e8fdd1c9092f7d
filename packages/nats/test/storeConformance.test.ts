import { fileURLToPath } from 'node:url'
import { testStateStore } from '@conduit/store-conformance'

testStateStore({
  name: 'nats-kv',
  factoryModule: fileURLToPath(new URL('./support/storeFactory.ts', import.meta.url)),
})
