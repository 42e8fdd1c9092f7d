// One import line for tests: the package's public API plus what tests use from core.
export { HandledError } from '@conduit/core'
export * from '../../src/index.js'
