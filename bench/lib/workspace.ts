/**
 * Workspace packages for the suites, by package name (the root package.json lists them as
 * devDependencies). Never import them by file path: a second path to zod is a second zod to
 * TypeScript, and comparing the two copies structurally makes the type checker explode.
 */
export * from '@conduit/core'
export { z } from 'zod'
