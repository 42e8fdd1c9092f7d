import { readFileSync } from 'node:fs'
import { Command } from 'commander'
import { registerAsyncApiCommand } from './commands/asyncapi.js'
import { registerInspectCommand } from './commands/inspect.js'
import { registerOpenApiCommand } from './commands/openapi.js'
import { registerScaffoldCommands } from './scaffold/index.js'

/** The `conduit` program: contracts (openapi, asyncapi), inspect, and the scaffold commands. */
export function createProgram(): Command {
  const program = new Command('conduit')
    .description('Conduit: contracts, capability checks and scaffolding for Conduit services')
    .version(packageVersion())
    .showHelpAfterError()
  registerOpenApiCommand(program)
  registerAsyncApiCommand(program)
  registerInspectCommand(program)
  registerScaffoldCommands(program)
  return program
}

/** Runs the program on `argv` (node's, with the executable and script first). */
export async function main(argv: readonly string[] = process.argv): Promise<void> {
  try {
    await createProgram().parseAsync([...argv])
  } catch (error) {
    process.stderr.write(`conduit: ${(error as Error).message}\n`)
    process.exitCode = 2
  }
}

function packageVersion(): string {
  // ../package.json from both src/ (workspace) and dist/ (installed)
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  return String(manifest.version)
}
