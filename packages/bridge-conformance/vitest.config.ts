import { defineProject } from 'vitest/config'

export default defineProject({ test: { name: 'bridge-conformance', include: ['test/**/*.test.ts'] } })
