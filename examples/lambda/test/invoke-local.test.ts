import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const exampleRoot = fileURLToPath(new URL('..', import.meta.url))

/** Runs `node --import tsx <args>` in the example's folder; resolves with its exit code and output. */
function run(args: string[], timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
      cwd: exampleRoot,
      env: { ...process.env, CONDUIT_LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (chunk) => {
      output += chunk
    })
    child.stderr.on('data', (chunk) => {
      output += chunk
    })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`node ${args.join(' ')} did not finish within ${timeoutMs} ms:\n${output}`))
    }, timeoutMs)
    child.on('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, output })
    })
  })
}

function expectEveryStep(output: string) {
  expect(output).toMatch(/user {2}← HTTP API POST \/api\/v1\/user\/users: 201 \{"userId":"[0-9a-f-]{36}"\}/)
  expect(output).toMatch(/user {2}← function URL POST \/api\/v1\/user\/users: 201/)
  expect(output).toMatch(
    /user {2}← REST API GET \/api\/v1\/user\/users\/[0-9a-f-]{36}: 200 .*"name":"Ada Lovelace"/,
  )
  expect(output).toContain(
    'bus   : 2 PutEvents entries: conduit.user user.registered, conduit.user user.registered',
  )
  expect(output).toContain('email ← SQS batch of 2 (rule → queue): {"batchItemFailures":[]}')
  expect(output).toContain(
    'email ← SQS batch with a malformed record: {"batchItemFailures":[{"itemIdentifier":"9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"}]}',
  )
  for (const to of ['ada', 'dorothy', 'grace', 'katherine'])
    expect(output).toContain(`mail  → ${to}@example.org`)
  expect(output).toContain('OK: every invocation answered as expected')
}

describe('pnpm invoke-local', { timeout: 60_000 }, () => {
  it('invokes both functions from their sources with the events in events/', async () => {
    const { code, output } = await run(['src/invoke-local.ts'], 45_000)
    expect(output).toContain('Invoking the sources (src/)')
    expectEveryStep(output)
    expect(code).toBe(0)
  })

  it('invokes the esbuild bundles that sam build deploys', async () => {
    const build = await run(['src/build.ts'], 45_000)
    expect(build.code, build.output).toBe(0)
    expect(build.output).toMatch(/dist\/user-function\.mjs: \d+ KiB/)
    const { code, output } = await run(['src/invoke-local.ts', '--built'], 45_000)
    expect(output).toContain('Invoking the built bundles (dist/)')
    expectEveryStep(output)
    expect(code).toBe(0)
  })
})
