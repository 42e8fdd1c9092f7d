import { readFileSync } from 'node:fs'

export { lambdaContext } from '../../src/testing.js'

/** A fixture from test/fixtures, parsed afresh so a test may change it. */
export function fixture<T = any>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/${name}.json`, import.meta.url), 'utf8')) as T
}

/** The JSON body of an HTTP handler's result. */
export function bodyOf(result: { body?: string | undefined }): any {
  return JSON.parse(result.body ?? 'null')
}

/** A header of an HTTP handler's result, whichever of headers / multiValueHeaders it used. */
export function headerOf(result: any, name: string): string | undefined {
  return result.headers?.[name] ?? result.multiValueHeaders?.[name]?.[0]
}
