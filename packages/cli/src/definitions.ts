import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { AnyEventDefinition, ServiceDefinition } from '@conduit/core'

/** What a definitions module contributes: its service and event definitions. */
export interface LoadedDefinitions {
  services: ServiceDefinition<any>[]
  events: AnyEventDefinition[]
}

const TYPESCRIPT = /\.(c|m)?tsx?$/

/**
 * Loads definitions modules (paths from the working directory, or `file:` URLs). TypeScript is
 * loaded through tsx's ESM API, so no loader flag is needed; JavaScript with a plain `import()`.
 *
 * Service definitions are found among the exports: every named export and the default export
 * whose value has `kind: 'service'` (a `ServiceDefinition`; checked structurally, so a module that
 * resolves its own copy of @conduit/core counts too), or an array of them; likewise event
 * definitions (`kind: 'event'`, from `defineEvent`). A definition exported twice counts once.
 */
export async function loadDefinitions(specifiers: readonly string[]): Promise<LoadedDefinitions> {
  const services = new Set<ServiceDefinition<any>>()
  const events = new Set<AnyEventDefinition>()
  for (const specifier of specifiers) {
    for (const value of Object.values(await loadModule(specifier)).flat()) {
      const kind =
        typeof value === 'object' && value !== null ? (value as { kind?: unknown }).kind : undefined
      if (kind === 'service') services.add(value as ServiceDefinition<any>)
      else if (kind === 'event') events.add(value as AnyEventDefinition)
    }
  }
  if (services.size === 0 && events.size === 0) {
    throw new Error(`no service or event definitions are exported by ${specifiers.join(', ')}`)
  }
  return { services: [...services], events: [...events] }
}

export async function loadModule(specifier: string): Promise<Record<string, unknown>> {
  const url = specifier.startsWith('file:')
    ? specifier
    : pathToFileURL(resolve(process.cwd(), specifier)).href
  try {
    if (!TYPESCRIPT.test(new URL(url).pathname)) return await import(url)
    const { tsImport } = await import('tsx/esm/api')
    return await tsImport(url, import.meta.url)
  } catch (error) {
    throw new Error(`cannot load ${specifier}: ${(error as Error).message}`)
  }
}
