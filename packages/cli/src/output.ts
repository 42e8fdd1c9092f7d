import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'

/** Writes a document as indented JSON to `file`, or to stdout without one. */
export async function writeDocument(document: unknown, file: string | undefined): Promise<void> {
  const text = `${JSON.stringify(document, null, 2)}\n`
  if (file === undefined) {
    process.stdout.write(text)
    return
  }
  const path = resolve(process.cwd(), file)
  await mkdir(dirname(path), { recursive: true })
  await writeFile(path, text)
  process.stderr.write(`wrote ${file}\n`)
}

/** The gateway's prefix rule: '' or a path starting with '/', without a trailing '/'. */
export function routePrefix(prefix: string): string {
  const trimmed = prefix.replace(/\/+$/, '')
  if (trimmed !== '' && !trimmed.startsWith('/')) throw new Error(`--route-prefix must start with '/'`)
  return trimmed
}
