import { type Command, Option } from 'commander'
import { addCommand, addService, addSubscription } from './add.js'
import { createProject } from './create.js'
import { parseHttpRoute } from './identifiers.js'
import { BRIDGES, PACKAGE_MANAGERS } from './options.js'
import { type CreateFlags, canPrompt, optionsFromFlags, promptForOptions } from './prompts.js'

export {
  type AddCommandOptions,
  type AddServiceOptions,
  type AddSubscriptionOptions,
  addCommand,
  addService,
  addSubscription,
} from './add.js'
export { type CreatedProject, createProject } from './create.js'
export {
  BRIDGES,
  type BridgeName,
  type CreateOptions,
  PACKAGE_MANAGERS,
  type PackageManager,
  ScaffoldError,
} from './options.js'
export { type CreateFlags, canPrompt, optionsFromFlags, promptForOptions } from './prompts.js'

/**
 * `conduit create` with prompts on a terminal and flags for everything, the way create-vite
 * does it. Shared with the `create-conduit` package, whose bin is this and nothing else.
 */
export async function runCreate(flags: CreateFlags): Promise<void> {
  const options = canPrompt() ? await promptForOptions(flags) : optionsFromFlags(flags)
  await createProject(options)
}

/** Adds `create` and `add service|command|subscription` to the `conduit` program. */
export function registerScaffoldCommands(program: Command): void {
  // `add service x --version 2` must reach the subcommand, not the program's own --version: with
  // positional options, program options count only before the subcommand's name.
  program.enablePositionalOptions()
  program.addCommand(createCommand(program.createCommand('create')))

  const add = program.command('add').description('add a service, a command or a subscription to this project')
  const dirOption = () =>
    new Option('-C, --dir <path>', 'the project folder').default('.', 'the current folder')

  add
    .command('service')
    .description('add a service: src/services/<name>/definition.ts, wired into src/services/index.ts')
    .argument('<name>', 'service name (a letter, then letters, digits, _ or -)')
    .option('--version <version>', 'service version', '1')
    .addOption(dirOption())
    .action(async (name: string, flags: { version: string; dir: string }) => {
      await addService(flags.dir, { name, version: flags.version })
    })

  add
    .command('command')
    .description('add a command (definition, handler, test) to a service')
    .argument('<service>', 'the service to add it to')
    .argument('<name>', 'command name')
    .option('--http <method:path>', 'serve it through the gateway, e.g. POST:/orders')
    .addOption(dirOption())
    .action(async (service: string, name: string, flags: { http?: string; dir: string }) => {
      await addCommand(flags.dir, {
        service,
        name,
        ...(flags.http ? { http: parseHttpRoute(flags.http) } : {}),
      })
    })

  add
    .command('subscription')
    .description('add a subscription (definition, handler, test) to a service')
    .argument('<service>', 'the service to add it to')
    .argument('<name>', 'subscription name')
    .requiredOption('--event <event>', 'the event name or pattern it handles, e.g. order.placed')
    .option('--durable', 'at-least-once delivery (acknowledged after the handler succeeds)', false)
    .addOption(dirOption())
    .action(
      async (service: string, name: string, flags: { event: string; durable: boolean; dir: string }) => {
        await addSubscription(flags.dir, { service, name, event: flags.event, durable: flags.durable })
      },
    )
}

/** The `create` command's arguments and options, on a fresh Command (create-conduit uses it as its program). */
export function createCommand(command: Command): Command {
  return command
    .description('create a Conduit project in a new folder (prompts on a terminal, flags otherwise)')
    .argument('[directory]', 'the folder to create (must not exist, or be empty)')
    .addOption(new Option('--bridge <bridge>', 'the bridge main.ts starts on').choices(BRIDGES))
    .option('--gateway', 'add the HTTP gateway (@conduit/http)')
    .option('--no-gateway', 'leave the HTTP gateway out')
    .option('--lambda', 'add AWS Lambda entry points (@conduit/aws-lambda)')
    .option('--no-lambda', 'leave the Lambda entry points out')
    .addOption(
      new Option('--package-manager <name>', 'the package manager to install with').choices(PACKAGE_MANAGERS),
    )
    .option('--no-install', 'write the files, do not install')
    .option(
      '--conduit-version <version>',
      "the @conduit packages' version; file:<folder> takes packed tarballs",
    )
    .action(async (directory: string | undefined, flags: Omit<CreateFlags, 'directory'>) => {
      await runCreate({ ...flags, ...(directory ? { directory } : {}) })
    })
}
