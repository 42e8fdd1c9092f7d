import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { hs256Token, JWT_SECRET } from './support/gateway.js'
import { readJson } from './support/http.js'

const packageDir = fileURLToPath(new URL('../', import.meta.url))
let child: ChildProcess | undefined

afterEach(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL')
})

/** Starts src/bin/gateway.ts and resolves with its URL from the "gateway listening" log line. */
async function startProcess(args: string[]): Promise<string> {
  child = spawn(process.execPath, ['--import', 'tsx', 'src/bin/gateway.ts', ...args], {
    cwd: packageDir,
    env: {
      ...process.env,
      CONDUIT_LOG_LEVEL: 'info',
      CONDUIT_JWT_SECRET: JWT_SECRET,
      CONDUIT_SHUTDOWN_DELAY_MS: '100',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines = createInterface({ input: child.stdout! })
  const stderr: string[] = []
  child.stderr!.on('data', (chunk) => stderr.push(String(chunk)))
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`gateway exited with ${code}: ${stderr.join('')}`)
  })
  const listening = (async () => {
    for await (const line of lines) {
      const entry = JSON.parse(line) as { msg?: string; url?: string }
      if (entry.msg === 'gateway listening') return entry.url!
    }
    // stdout closes before 'exit' fires: report the exit code and stderr.
    return exited
  })()
  return Promise.race([listening, exited])
}

describe('the gateway as its own process', () => {
  it('serves definitions it has no handlers for, and stops on SIGTERM', { timeout: 30_000 }, async () => {
    const url = await startProcess([
      '--services',
      'test/support/services.ts',
      '--port',
      '0',
      '--host',
      '127.0.0.1',
    ])

    expect((await fetch(`${url}/healthz`)).status).toBe(200)
    expect((await fetch(`${url}/readyz`)).status).toBe(200)
    const document = await readJson(await fetch(`${url}/openapi.json`))
    expect(Object.keys(document.paths)).toContain('/api/v1/user/users/{userId}')

    // Nothing handles the commands on this process's own memory bridge: 503, quickly.
    const missing = await fetch(`${url}/api/v1/user/users/u-1`)
    expect(missing.status).toBe(503)
    // Auth comes from CONDUIT_JWT_SECRET.
    expect((await fetch(`${url}/api/v1/user/me`)).status).toBe(401)
    const authorized = await fetch(`${url}/api/v1/user/me`, {
      headers: { authorization: `Bearer ${await hs256Token()}` },
    })
    expect(authorized.status).toBe(503)

    const exit = once(child!, 'exit')
    child!.kill('SIGTERM')
    const [code] = await exit
    expect(code).toBe(0)
  })

  it('exits with a message when no definitions are found', { timeout: 30_000 }, async () => {
    await expect(startProcess(['--services', 'test/support/http.ts', '--port', '0'])).rejects.toThrow(
      /exited with 2: conduit-gateway: no service definitions found/,
    )
  })
})
