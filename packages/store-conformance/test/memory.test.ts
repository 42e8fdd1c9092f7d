import { fileURLToPath } from 'node:url'
import { testStateStore } from '../src/index.js'

testStateStore({
  name: 'memory',
  factoryModule: fileURLToPath(new URL('./support/memoryFactory.ts', import.meta.url)),
  inProcessOnly: 'the memory store lives inside one process; two processes would hold two stores',
})
