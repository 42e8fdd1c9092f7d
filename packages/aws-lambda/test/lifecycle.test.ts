import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { NatsAdmin, uniquePrefix } from '@conduit/nats/testing'
import { describe, expect, it } from 'vitest'

const packageRoot = fileURLToPath(new URL('..', import.meta.url))

/** Resolves with the child's stdout once it contains `marker`, or rejects after `timeoutMs`. */
function waitForOutput(child: ChildProcess, read: () => string, marker: string, timeoutMs: number) {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no "${marker}" within ${timeoutMs} ms: ${read()}`)),
      timeoutMs,
    )
    const check = () => {
      if (!read().includes(marker)) return
      clearTimeout(timer)
      child.stdout?.off('data', check)
      resolve()
    }
    child.stdout?.on('data', check)
    check()
  })
}

describe('the function lifecycle in its own process', { timeout: 30_000 }, () => {
  it('closes the service and the broker connection on SIGTERM, then ends', async () => {
    const prefix = uniquePrefix('lambda_sigterm')
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/sigtermFunction.ts'], {
      cwd: packageRoot,
      env: { ...process.env, CONDUIT_LOG_LEVEL: 'silent', NATS_PREFIX: prefix },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => {
      stdout += chunk
    })
    child.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
    try {
      await waitForOutput(child, () => stdout + stderr, 'ready', 20_000)
      expect(stdout).toContain('ready status=201')
      child.kill('SIGTERM')
      const [code, signal] = await Promise.race([
        exited,
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error('did not end after SIGTERM')), 5_000),
        ),
      ])
      expect(stdout).toContain('outgoing-stopped connection=closed')
      expect({ code, signal }).toEqual({ code: null, signal: 'SIGTERM' })
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      const admin = await NatsAdmin.connect(process.env.NATS_URL ?? 'nats://127.0.0.1:4222')
      await admin.deleteNamespace(prefix)
      await admin.close()
    }
  })
})
