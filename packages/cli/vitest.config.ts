import { defineProject } from 'vitest/config'

export default defineProject({
  test: {
    name: 'cli',
    env: { CONDUIT_LOG_LEVEL: 'silent' },
    include: ['test/**/*.test.ts'],
    // each test starts the CLI (node + tsx) or loads the AsyncAPI parser: seconds on a busy 2-core machine
    testTimeout: 30_000,
  },
})
