import { defineProject } from 'vitest/config'

export default defineProject({
  test: {
    name: 'vault',
    env: { CONDUIT_LOG_LEVEL: 'silent' },
    include: ['test/**/*.test.ts'],
  },
})
