/** The bridges a new project can start on, in the order the prompt offers them. */
export const BRIDGES = ['memory', 'nats', 'amqp', 'mqtt', 'dapr'] as const
export type BridgeName = (typeof BRIDGES)[number]

export const PACKAGE_MANAGERS = ['npm', 'pnpm', 'yarn'] as const
export type PackageManager = (typeof PACKAGE_MANAGERS)[number]

export interface CreateOptions {
  /** the folder to create, relative to `cwd`; it must not exist or be empty */
  directory: string
  bridge: BridgeName
  gateway: boolean
  lambda: boolean
  packageManager: PackageManager
  /** run the package manager's install in the new folder */
  install: boolean
  /**
   * the version (or range, or dist-tag) of the @conduit packages; `file:<folder>` takes each one
   * from a packed tarball in that folder. Default: `^` + this CLI's own version.
   */
  conduitVersion?: string
  /** default `process.cwd()` */
  cwd?: string
}

/**
 * A refusal the user can act on (a name the runtime would reject, a file that exists, a folder
 * that is not empty). The CLI prints its message without a stack and exits 1; nothing was written.
 */
export class ScaffoldError extends Error {
  override readonly name = 'ScaffoldError'
}

/** Where the CLI reports progress; the default writes to stdout. */
export type Reporter = (line: string) => void
export const printLine: Reporter = (line) => process.stdout.write(`${line}\n`)
