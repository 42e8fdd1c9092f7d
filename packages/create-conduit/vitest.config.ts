import { defineProject } from 'vitest/config'

export default defineProject({
  test: {
    name: 'create-conduit',
    env: { CONDUIT_LOG_LEVEL: 'silent' },
    include: ['test/**/*.test.ts'],
    // each test starts the bin (node + tsx): seconds on a busy 2-core machine (a CI run took over
    // 5 s, vitest's default, while the scaffold end-to-end test installed five projects)
    testTimeout: 30_000,
  },
})
