import { defineConfig } from 'vitest/config'
import { PlainSummaryReporter } from './vitest.summary.js'

// One vitest project per package/example: each runs in its own worker pool slot,
// so broker-backed suites of different bridges run in parallel with each other.
export default defineConfig({
  test: {
    projects: ['packages/*', 'examples/*'],
    // Most test time is spent waiting on brokers, not on CPU: three files at once on two cores
    // (vitest's default would be one worker here) roughly halves the wall time.
    maxWorkers: 3,
    reporters: ['default', new PlainSummaryReporter()],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    env: { CONDUIT_LOG_LEVEL: 'silent' },
  },
})
