import { main } from '@conduit/cli'

/**
 * `npm create conduit@latest my-app [flags]` is `conduit create my-app [flags]`: the same code,
 * from @conduit/cli, so the two never drift apart. `args` are the words after the package name.
 */
export async function createConduit(args: readonly string[] = process.argv.slice(2)): Promise<void> {
  await main([process.execPath, 'create-conduit', 'create', ...args])
}
