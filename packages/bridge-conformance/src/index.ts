export type { ConformanceHarness, ConformanceNamespace } from './harness.js'
export { type ConformanceOptions, runBridgeConformance } from './runBridgeConformance.js'
export { ConformanceWorld, type LogEntry, TEST_RETRY_BACKOFF } from './world.js'
