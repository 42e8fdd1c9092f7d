import type { ConformanceWorld } from '../world.js'

/** Declares one conformance test; the runner gives each a fresh world (namespace, probe, logs). */
export type WorldTest = (name: string, body: (world: ConformanceWorld) => Promise<void>) => void
