// `node bundle.mjs <outdir>`: bundles the two Lambda functions the way docs/aws-lambda.md says a
// user would, with plain esbuild: ESM, platform node, target node20, minified, no plugins, no
// banner, nothing external. Prints one JSON line: each bundle's path and size in bytes.
import { build } from 'esbuild'

const outdir = process.argv[2]
if (!outdir) throw new Error('usage: node bundle.mjs <outdir>')
const started = performance.now()
const result = await build({
  entryPoints: ['src/lambda/user-function.ts', 'src/lambda/email-function.ts'],
  outdir,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  minify: true,
  metafile: true,
  logLevel: 'silent',
})
const bundles = Object.fromEntries(
  Object.entries(result.metafile.outputs).map(([file, output]) => [file, output.bytes]),
)
const warnings = result.warnings.map((warning) => warning.text)
const ms = Math.round(performance.now() - started)
process.stdout.write(`PACKTEST_RESULT ${JSON.stringify({ bundles, warnings, ms })}\n`)
