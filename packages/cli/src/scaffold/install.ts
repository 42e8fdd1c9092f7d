import { spawn } from 'node:child_process'
import type { PackageManager } from './options.js'
import { ScaffoldError } from './options.js'

/** How the README and the closing message tell the user to run a script. */
export function runCommand(packageManager: PackageManager, script: string): string {
  return packageManager === 'npm' ? `npm run ${script}` : `${packageManager} ${script}`
}

/**
 * Runs `<package manager> install` in the project, its output going to ours. A missing package
 * manager is a refusal that says how to install by hand.
 */
export function installDependencies(directory: string, packageManager: PackageManager): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(packageManager, ['install'], {
      cwd: directory,
      stdio: 'inherit',
      shell: process.platform === 'win32',
    })
    child.on('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'ENOENT'
          ? new ScaffoldError(
              `${packageManager} is not installed; install it, then run: cd ${directory} && ${packageManager} install`,
            )
          : error,
      )
    })
    child.on('exit', (code) => {
      if (code === 0) resolve()
      else
        reject(
          new ScaffoldError(`${packageManager} install exited with ${code}; the project is in ${directory}`),
        )
    })
  })
}
