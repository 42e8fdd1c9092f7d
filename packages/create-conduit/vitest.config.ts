import { defineProject } from 'vitest/config'

export default defineProject({
  test: {
    name: 'create-conduit',
    env: { CONDUIT_LOG_LEVEL: 'silent' },
    include: ['test/**/*.test.ts'],
  },
})
