import * as clack from '@clack/prompts'
import {
  BRIDGES,
  type BridgeName,
  type CreateOptions,
  PACKAGE_MANAGERS,
  type PackageManager,
  ScaffoldError,
} from './options.js'

/** What `conduit create` was given on the command line; anything missing is asked or defaulted. */
export interface CreateFlags {
  directory?: string
  bridge?: BridgeName
  gateway?: boolean
  lambda?: boolean
  packageManager?: PackageManager
  install: boolean
  conduitVersion?: string
}

/** Prompts only with a person at a terminal: both stdin and stdout TTYs, and CI unset. */
export function canPrompt(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(process.stdin.isTTY && process.stdout.isTTY) && !env.CI
}

/** The package manager that ran us (`npm create`, `pnpm create`, `yarn create`), else npm. */
export function packageManagerFromUserAgent(userAgent = process.env.npm_config_user_agent): PackageManager {
  const name = userAgent?.split('/')[0]
  return PACKAGE_MANAGERS.includes(name as PackageManager) ? (name as PackageManager) : 'npm'
}

const DEFAULTS = { bridge: 'memory', gateway: true, lambda: false } as const

/** Without prompts: the flags, each missing one at its default; the folder is required. */
export function optionsFromFlags(flags: CreateFlags): CreateOptions {
  if (!flags.directory) {
    throw new ScaffoldError('Name the folder to create: conduit create <directory> (prompts need a terminal)')
  }
  return {
    directory: flags.directory,
    bridge: flags.bridge ?? DEFAULTS.bridge,
    gateway: flags.gateway ?? DEFAULTS.gateway,
    lambda: flags.lambda ?? DEFAULTS.lambda,
    packageManager: flags.packageManager ?? packageManagerFromUserAgent(),
    install: flags.install,
    ...(flags.conduitVersion ? { conduitVersion: flags.conduitVersion } : {}),
  }
}

/** Asks (@clack/prompts) for every choice the flags left open. */
export async function promptForOptions(flags: CreateFlags): Promise<CreateOptions> {
  clack.intro('conduit create')
  const directory =
    flags.directory ??
    answered(
      await clack.text({
        message: 'Project folder',
        placeholder: 'conduit-app',
        defaultValue: 'conduit-app',
      }),
    )
  const bridge =
    flags.bridge ??
    answered(
      await clack.select<BridgeName>({
        message: 'Bridge',
        initialValue: DEFAULTS.bridge,
        options: BRIDGES.map((value) => ({ value, hint: BRIDGE_HINTS[value] })),
      }),
    )
  const gateway =
    flags.gateway ??
    answered(await clack.confirm({ message: 'Add the HTTP gateway?', initialValue: DEFAULTS.gateway }))
  const lambda =
    flags.lambda ??
    answered(await clack.confirm({ message: 'Add AWS Lambda entry points?', initialValue: DEFAULTS.lambda }))
  const packageManager =
    flags.packageManager ??
    answered(
      await clack.select<PackageManager>({
        message: 'Package manager',
        initialValue: packageManagerFromUserAgent(),
        options: PACKAGE_MANAGERS.map((value) => ({ value })),
      }),
    )
  return {
    directory,
    bridge,
    gateway,
    lambda,
    packageManager,
    install: flags.install,
    ...(flags.conduitVersion ? { conduitVersion: flags.conduitVersion } : {}),
  }
}

const BRIDGE_HINTS: Record<BridgeName, string> = {
  memory: 'one process, no broker',
  nats: 'NATS with JetStream',
  amqp: 'RabbitMQ',
  mqtt: 'an MQTT 5 broker',
  dapr: 'a Dapr sidecar',
}

function answered<T>(value: T): Exclude<T, symbol> {
  if (clack.isCancel(value)) {
    clack.cancel('Cancelled: nothing was written')
    process.exit(1)
  }
  return value as Exclude<T, symbol>
}
