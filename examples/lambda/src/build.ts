/**
 * `pnpm build`: bundles each function into dist/<name>.mjs with plain esbuild (ESM, Node 20,
 * minified, no plugins or `require` shim, the AWS SDK left to the Lambda runtime).
 * `sam build` runs it through the Makefile; `pnpm invoke-built` invokes the bundles locally.
 */
import { build } from 'esbuild'

export const FUNCTIONS = ['user-function', 'email-function'] as const

const root = new URL('..', import.meta.url)
const started = performance.now()
const result = await build({
  entryPoints: FUNCTIONS.map((name) => new URL(`src/${name}.ts`, root).pathname),
  outdir: new URL('dist/', root).pathname,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  minify: true,
  sourcemap: true,
  metafile: true,
  external: ['@aws-sdk/*'],
  logLevel: 'warning',
})
for (const [file, output] of Object.entries(result.metafile.outputs)) {
  if (file.endsWith('.mjs')) process.stdout.write(`${file}: ${(output.bytes / 1024).toFixed(0)} KiB\n`)
}
process.stdout.write(`built in ${Math.round(performance.now() - started)} ms\n`)
