import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const CLI_ROOT = fileURLToPath(new URL('..', import.meta.url))
const EXAMPLE = fileURLToPath(new URL('../../../examples/monolith/src/', import.meta.url))
/** The microservices example's definitions: the monolith's user and email contracts. */
export const EXAMPLE_DEFINITIONS = [`${EXAMPLE}user/definition.ts`, `${EXAMPLE}email/definition.ts`]

export interface Run {
  code: number
  stdout: string
  stderr: string
}

/** Runs the CLI as a real process, the way the package script does: node --import tsx src/bin.ts. */
export function conduit(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/bin.ts', ...args],
      { cwd: CLI_ROOT, env: { ...process.env, CONDUIT_LOG_LEVEL: 'silent' } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0
        resolve({ code, stdout, stderr })
      },
    )
  })
}
