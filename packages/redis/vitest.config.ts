import { defineProject } from 'vitest/config'

export default defineProject({
  test: {
    name: 'redis',
    env: { CONDUIT_LOG_LEVEL: 'silent' },
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
  },
})
