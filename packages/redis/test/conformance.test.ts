import { fileURLToPath } from 'node:url'
import { testStateStore } from '@conduit/store-conformance'

// Redis at 127.0.0.1:6379, or CONDUIT_REDIS_URL (read by the factory, also in the race's processes)
testStateStore({
  name: 'redis',
  factoryModule: fileURLToPath(new URL('./support/storeFactory.ts', import.meta.url)),
})
