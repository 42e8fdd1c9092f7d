import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const PACKAGE_ROOT = fileURLToPath(new URL('..', import.meta.url))

/** Runs the bin the way `npm create conduit` does, with the words after `conduit`. */
function createConduit(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/bin.ts', ...args],
      { cwd: PACKAGE_ROOT, env: { ...process.env, CI: '1' } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    )
  })
}

let root: string
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'create-conduit-'))
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

describe('create-conduit', () => {
  it('is `conduit create`: same flags, same project', async () => {
    const directory = join(root, 'my-app')
    const run = await createConduit(directory, '--bridge', 'mqtt', '--no-gateway', '--no-install')
    expect(run).toMatchObject({ code: 0, stderr: '' })
    expect(run.stdout).toContain('Created my-app')
    const manifest = JSON.parse(await readFile(join(directory, 'package.json'), 'utf8'))
    expect(Object.keys(manifest.dependencies)).toEqual([
      '@conduit/core',
      '@conduit/mqtt',
      '@opentelemetry/api',
      'zod',
    ])
  })

  it('refuses a folder that is not empty', async () => {
    const run = await createConduit(join(root, 'my-app'), '--no-install')
    expect(run.code).not.toBe(0)
    expect(run.stderr).toContain('is not empty')
  })
})
