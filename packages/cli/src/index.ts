export { BRIDGE_NAMES, type BridgeName, bridgeFor } from './bridges.js'
export { type LoadedDefinitions, loadDefinitions } from './definitions.js'
export { createProgram, main } from './main.js'
