/**
 * Packs every published package as `pnpm publish` would (its `prepack` builds it, its
 * `publishConfig` applies) into a temporary folder and checks each tarball:
 *
 * - it ships package.json, README.md, LICENSE and `dist/`, nothing else and no test file;
 * - every source map embeds its sources (nothing points at unshipped TypeScript);
 * - publint reports nothing, not even a suggestion;
 * - Are the Types Wrong (`attw --profile esm-only`) finds no problem: every entry point resolves
 *   to JavaScript and types under moduleResolution node16/nodenext and bundler. The packages are
 *   ESM only, so the CommonJS and node10 resolutions are not checked.
 *
 * Exits 1 on any problem. `--keep` leaves the tarballs in the folder it prints; `--out DIR` also
 * copies them into DIR (CI hands them to the pack test).
 * Run it with `pnpm check:packages` (it calls `pnpm pack`).
 */
import { execFile } from 'node:child_process'
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { basename, join, posix } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { publint } from 'publint'
import { formatMessage } from 'publint/utils'

const run = promisify(execFile)
const ROOT = fileURLToPath(new URL('..', import.meta.url))
const ATTW = join(ROOT, 'node_modules', '.bin', 'attw')
const SHIPPED = /^package\/(package\.json|README(\.md)?|LICENSE(\.md|\.txt)?|dist\/.+)$/
const NOT_SHIPPED = /\.test\.|\.tsbuildinfo$|(^|\/)vitest\.config\./

interface PackageDirectory {
  name: string
  dir: string
}

interface Checked {
  name: string
  tarball?: string
  bytes?: number
  files?: number
  problems: string[]
}

async function publishedPackages(): Promise<PackageDirectory[]> {
  const found: PackageDirectory[] = []
  for (const entry of await readdir(join(ROOT, 'packages'), { withFileTypes: true })) {
    if (!entry.isDirectory()) continue
    const dir = join(ROOT, 'packages', entry.name)
    const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8').catch(() => 'null'))
    if (manifest && !manifest.private) found.push({ name: manifest.name, dir })
  }
  return found.sort((a, b) => a.name.localeCompare(b.name))
}

function failureText(error: unknown): string {
  const { stdout = '', stderr = '', message } = error as { stdout?: string; stderr?: string; message: string }
  return [message, stdout, stderr].filter((text) => text.trim()).join('\n')
}

async function pack(pkg: PackageDirectory, destination: string): Promise<string> {
  await mkdir(destination)
  await run('pnpm', ['pack', '--pack-destination', destination], {
    cwd: pkg.dir,
    maxBuffer: 64 * 1024 * 1024,
  })
  const tarballs = (await readdir(destination)).filter((file) => file.endsWith('.tgz'))
  if (tarballs.length !== 1)
    throw new Error(`expected one tarball in ${destination}, found ${tarballs.length}`)
  return join(destination, tarballs[0]!)
}

async function contentProblems(tarball: string): Promise<{ files: number; problems: string[] }> {
  const { stdout } = await run('tar', ['-tzf', tarball], { maxBuffer: 64 * 1024 * 1024 })
  const files = stdout.split('\n').filter((line) => line && !line.endsWith('/'))
  const problems = files
    .filter((file) => !SHIPPED.test(file) || NOT_SHIPPED.test(file))
    .map((file) => `ships ${file.replace(/^package\//, '')}`)
  for (const required of ['package/README.md', 'package/LICENSE']) {
    if (!files.includes(required)) problems.push(`ships no ${required.replace(/^package\//, '')}`)
  }
  return { files: files.length, problems: [...problems, ...(await sourceMapProblems(tarball, files))] }
}

/**
 * A source map must lead to its source: each entry of `sources` is either embedded
 * (`sourcesContent`) or a file in the tarball. Otherwise a debugger or `--enable-source-maps`
 * points users at TypeScript files that were never shipped.
 */
async function sourceMapProblems(tarball: string, files: string[]): Promise<string[]> {
  const maps = files.filter((file) => file.endsWith('.map'))
  if (maps.length === 0) return []
  const shipped = new Set(files)
  const directory = await mkdtemp(join(tmpdir(), 'conduit-maps-'))
  try {
    await run('tar', ['-xzf', tarball, '-C', directory, ...maps], { maxBuffer: 64 * 1024 * 1024 })
    const problems: string[] = []
    for (const map of maps) {
      const parsed = JSON.parse(await readFile(join(directory, map), 'utf8')) as {
        sources?: string[]
        sourcesContent?: (string | null)[]
      }
      for (const [index, source] of (parsed.sources ?? []).entries()) {
        const embedded = typeof parsed.sourcesContent?.[index] === 'string'
        if (!embedded && !shipped.has(posix.join(posix.dirname(map), source))) {
          problems.push(
            `${map.replace(/^package\//, '')} points at ${source}, which is neither embedded nor shipped`,
          )
        }
      }
    }
    return problems
  } finally {
    await rm(directory, { recursive: true, force: true })
  }
}

async function publintProblems(tarball: string): Promise<string[]> {
  const bytes = await readFile(tarball)
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
  const { messages, pkg } = await publint({ pack: { tarball: buffer }, level: 'suggestion', strict: true })
  return messages.map(
    (message) => `publint ${message.type}: ${formatMessage(message, pkg, { color: false })}`,
  )
}

async function attwProblems(tarball: string): Promise<string[]> {
  const args = [tarball, '--profile', 'esm-only', '--no-definitely-typed', '--format', 'ascii', '--no-emoji']
  try {
    await run(ATTW, args, { maxBuffer: 64 * 1024 * 1024, env: { ...process.env, FORCE_COLOR: '0' } })
    return []
  } catch (error) {
    return [`attw:\n${failureText(error)}`]
  }
}

async function check(pkg: PackageDirectory, folder: string): Promise<Checked> {
  let tarball: string
  try {
    tarball = await pack(pkg, join(folder, pkg.name.replace(/^@/, '').replace('/', '-')))
  } catch (error) {
    return { name: pkg.name, problems: [`pnpm pack failed:\n${failureText(error)}`] }
  }
  const [{ files, problems }, linted, typed, { size }] = await Promise.all([
    contentProblems(tarball),
    publintProblems(tarball),
    attwProblems(tarball),
    stat(tarball),
  ])
  return { name: pkg.name, tarball, bytes: size, files, problems: [...problems, ...linted, ...typed] }
}

/** Runs `work` on every item, at most `limit` at once, keeping the items' order in the results. */
async function eachLimited<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const index = next++
      results[index] = await work(items[index]!)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}

const started = performance.now()
const keep = process.argv.includes('--keep')
/** `--out DIR`: also copy every tarball into DIR (the pack test installs them from there). */
const outIndex = process.argv.indexOf('--out')
const out = outIndex >= 0 ? process.argv[outIndex + 1] : undefined
const folder = await mkdtemp(join(tmpdir(), 'conduit-pack-'))
const packages = await publishedPackages()
// Each pack builds its package (tsc), which is CPU-bound: one per core.
const results = await eachLimited(packages, Math.max(1, availableParallelism()), (pkg) => check(pkg, folder))

const width = Math.max(...results.map((result) => result.name.length))
for (const result of results) {
  const size =
    result.bytes === undefined ? '' : `${result.bytes.toLocaleString('en-US')} B, ${result.files} files`
  console.log(`${result.problems.length === 0 ? 'ok  ' : 'FAIL'} ${result.name.padEnd(width)}  ${size}`)
  for (const problem of result.problems) console.log(`       ${problem.replaceAll('\n', '\n       ')}`)
}
const failed = results.filter((result) => result.problems.length > 0).length
const seconds = ((performance.now() - started) / 1000).toFixed(1)
console.log(
  failed === 0
    ? `check:packages: ${results.length} packages clean (publint, attw --profile esm-only) in ${seconds} s`
    : `check:packages: ${failed} of ${results.length} packages have problems (${seconds} s)`,
)
if (out !== undefined) {
  await mkdir(out, { recursive: true })
  for (const result of results)
    if (result.tarball) await copyFile(result.tarball, join(out, basename(result.tarball)))
  console.log(`tarballs copied to ${out}`)
}
if (keep) console.log(`tarballs kept in ${folder}`)
else await rm(folder, { recursive: true, force: true })
process.exitCode = failed === 0 ? 0 : 1
