import { defineProject } from 'vitest/config'

export default defineProject({
  test: {
    name: 'runner',
    env: { CONDUIT_LOG_LEVEL: 'silent' },
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
})
