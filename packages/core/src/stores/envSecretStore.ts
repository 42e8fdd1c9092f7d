import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { SecretStore } from './contracts.js'

export interface EnvSecretStoreOptions {
  /** where variables are read; default `process.env` */
  readonly env?: Readonly<Record<string, string | undefined>>
  /** prepended to a key to form the variable name: `prefix: 'APP_'` reads `db` from `APP_db` */
  readonly prefix?: string
  /**
   * A folder of mounted secret files, one per key (Docker's `/run/secrets`, a Kubernetes secret
   * volume). Read when no variable holds the key.
   */
  readonly directory?: string
}

// A key becomes a variable name and a file name: no path separators, no `..`, nothing a shell
// or a file system would read differently.
const SECRET_KEY = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$/

/**
 * The twelve-factor secret store: a key is read from the variable `<prefix><key>`, then from
 * the file named by `<prefix><key>_FILE` (the convention of Docker's official images), then from
 * `<directory>/<key>`. Values are returned as written, without a trailing newline.
 */
export function envSecretStore(options: EnvSecretStoreOptions = {}): SecretStore {
  const env = options.env ?? process.env
  const prefix = options.prefix ?? ''
  return {
    name: 'env',
    async get(key) {
      if (!SECRET_KEY.test(key) || key.includes('..')) {
        throw new TypeError(
          `env secret store: key ${JSON.stringify(key)} must be letters, digits, '_', '.' or '-' (it names a variable and a file)`,
        )
      }
      const variable = `${prefix}${key}`
      const direct = env[variable]
      if (direct !== undefined) return direct
      const file = env[`${variable}_FILE`]
      if (file !== undefined) return readSecretFile(file, true)
      if (options.directory !== undefined) return readSecretFile(join(options.directory, key), false)
      return undefined
    },
  }
}

/** A named file must exist (a typo should fail loudly); a key missing from the folder is just absent. */
async function readSecretFile(path: string, required: boolean): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).replace(/\r?\n$/, '')
  } catch (error) {
    if (!required && (error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new Error(`env secret store: cannot read the secret file ${path}: ${(error as Error).message}`, {
      cause: error,
    })
  }
}
