/**
 * `pnpm build`: bundles each function into dist/<name>.mjs with esbuild (ESM, Node 20, a
 * `require` shim for CommonJS dependencies, the AWS SDK left to the Lambda runtime).
 * `sam build` runs it through the Makefile; `pnpm invoke-built` invokes the bundles locally.
 */
import { readFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { build, type Plugin } from 'esbuild'

export const FUNCTIONS = ['user-function', 'email-function'] as const

/**
 * @conduit/http loads @asteasolutions/zod-to-openapi with `createRequire(import.meta.url)(...)`,
 * a runtime require a bundler cannot follow (the bundle would look for node_modules at run
 * time). This turns that one call into a static import so the package is bundled.
 */
const bundleZodToOpenApi: Plugin = {
  name: 'bundle-zod-to-openapi',
  setup(build) {
    build.onLoad({ filter: /[\\/]http[\\/]src[\\/]zodToOpenApi\.ts$/ }, async ({ path }) => {
      const source = await readFile(path, 'utf8')
      const runtimeRequire = /createRequire\(import\.meta\.url\)\(\s*'@asteasolutions\/zod-to-openapi',?\s*\)/
      if (!runtimeRequire.test(source)) {
        throw new Error(
          `${path} no longer loads zod-to-openapi the way this plugin expects; update the plugin`,
        )
      }
      return {
        contents: `import * as zodToOpenApiModule from '@asteasolutions/zod-to-openapi'\n${source.replace(runtimeRequire, 'zodToOpenApiModule')}`,
        loader: 'ts',
        resolveDir: dirname(path),
      }
    })
  },
}

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
  plugins: [bundleZodToOpenApi],
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  logLevel: 'warning',
})
for (const [file, output] of Object.entries(result.metafile.outputs)) {
  if (file.endsWith('.mjs')) process.stdout.write(`${file}: ${(output.bytes / 1024).toFixed(0)} KiB\n`)
}
process.stdout.write(`built in ${Math.round(performance.now() - started)} ms\n`)
