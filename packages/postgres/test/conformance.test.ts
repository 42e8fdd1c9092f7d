import { testStateStore } from '@conduit/store-conformance'

// The shared suite against the real PostgreSQL (CONDUIT_POSTGRES_URL, default 127.0.0.1:5432/test),
// through the factory the race test also imports in its two child processes.
testStateStore({
  name: 'postgres',
  factoryModule: new URL('./support/storeFactory.ts', import.meta.url).pathname,
})
