import { defineProject } from 'vitest/config'

export default defineProject({
  test: {
    name: 'example-microservices',
    env: { CONDUIT_LOG_LEVEL: 'silent' },
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
})
