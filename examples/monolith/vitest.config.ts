import { defineProject } from 'vitest/config'

export default defineProject({ test: { name: 'example-monolith', env: { CONDUIT_LOG_LEVEL: 'silent' } } })
