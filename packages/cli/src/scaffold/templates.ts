import { existsSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Eta } from 'eta'

/**
 * The templates: packages/cli/templates in the workspace (two levels up from src/scaffold), and
 * dist/templates in the published package (one level up from dist/scaffold; the build copies
 * them there, since a tarball ships dist/ only).
 */
export const TEMPLATES_ROOT = [
  new URL('../templates/', import.meta.url),
  new URL('../../templates/', import.meta.url),
]
  .map((url) => fileURLToPath(url))
  .find((folder, index, all) => existsSync(folder) || index === all.length - 1) as string

// No HTML escaping (we write TypeScript and Markdown), no automatic trimming: control tags end
// in `-%>`, which drops their own line break, so an `<% if (...) { -%>` line leaves no gap.
const eta = new Eta({ autoEscape: false, autoTrim: false, useWith: false })

/** Renders one template file (a path below templates/) with `it` = data. */
export async function renderTemplate(template: string, data: object): Promise<string> {
  const text = await readFile(join(TEMPLATES_ROOT, template), 'utf8')
  return eta.renderString(text, data)
}

/**
 * Renders every `*.eta` file below templates/<folder> into a map from output path (relative,
 * `.eta` dropped) to text. Names that a package must not ship are written with an underscore
 * and restored here: `_gitignore` (npm drops .gitignore from tarballs), `_test/`,
 * `x._test.ts` and `_vitest.config.ts` (package checks refuse test files and configs in a tarball).
 */
export async function renderFolder(folder: string, data: object): Promise<Map<string, string>> {
  const root = join(TEMPLATES_ROOT, folder)
  const entries = await readdir(root, { recursive: true, withFileTypes: true })
  const rendered = new Map<string, string>()
  for (const entry of entries) {
    if (!entry.isFile() || !entry.name.endsWith('.eta')) continue
    const source = relative(TEMPLATES_ROOT, join(entry.parentPath, entry.name))
    const output = relative(root, join(entry.parentPath, entry.name))
      .slice(0, -'.eta'.length)
      .replace(/(^|[\\/])_gitignore$/, '$1.gitignore')
      .replace(/(^|[\\/])_test([\\/])/, '$1test$2')
      .replace(/\._test\.ts$/, '.test.ts')
      .replace(/(^|[\\/])_vitest\.config\./, '$1vitest.config.')
    rendered.set(output.split('\\').join('/'), await renderTemplate(source, data))
  }
  return rendered
}
