import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { ScaffoldError } from './options.js'

/**
 * Writes rendered files below `root`. `replace` names the generated files that may be
 * overwritten; any other path that exists is a refusal, checked for every file before the first
 * write, so a refused run changes nothing.
 */
export async function writeFiles(
  root: string,
  files: ReadonlyMap<string, string>,
  replace: ReadonlySet<string> = new Set(),
): Promise<string[]> {
  const clashes = [...files.keys()].filter((path) => !replace.has(path) && existsSync(join(root, path)))
  if (clashes.length > 0) {
    throw new ScaffoldError(
      `${clashes.join(', ')} already exist${clashes.length === 1 ? 's' : ''}; nothing was changed`,
    )
  }
  for (const [path, text] of files) {
    await mkdir(dirname(join(root, path)), { recursive: true })
    await writeFile(join(root, path), text, { flag: replace.has(path) ? 'w' : 'wx' })
  }
  return [...files.keys()]
}
