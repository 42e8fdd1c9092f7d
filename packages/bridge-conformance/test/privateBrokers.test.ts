import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { isPidAlive, sweepOrphans } from '../src/privateBrokers/owned.js'

const OWNER = fileURLToPath(new URL('./support/brokerOwner.ts', import.meta.url))
const GONE = { timeout: 10_000, interval: 50 }
const started: ChildProcess[] = []

afterEach(() => {
  for (const child of started.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
})

/** Runs brokerOwner.ts and resolves with the broker it started. */
async function ownerWithBroker(
  mode: 'wait' | 'exit',
): Promise<{ owner: ChildProcess; pid: number; folder: string }> {
  // In `exit` mode the watchdog is off, so that only the exit handler can clean up.
  const env = { ...process.env, CONDUIT_BROKER_WATCHDOG: mode === 'exit' ? 'off' : 'on' }
  const owner = spawn(process.execPath, ['--import', 'tsx', OWNER, mode], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env,
  })
  started.push(owner)
  const line = await new Promise<string>((resolve, reject) => {
    let text = ''
    owner.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString()
      if (text.includes('\n')) resolve(text.split('\n')[0]!)
    })
    owner.once('exit', (code) =>
      text.includes('\n') ? undefined : reject(new Error(`owner exited ${code}`)),
    )
  })
  const { pid, folder } = JSON.parse(line) as { pid: number; folder: string }
  return { owner, pid, folder }
}

describe('private brokers are cleaned up when their owner dies', { timeout: 30_000 }, () => {
  it('owner killed with SIGKILL (no exit handler runs): the watchdog kills the broker and removes its folder', async () => {
    const { owner, pid, folder } = await ownerWithBroker('wait')
    expect(isPidAlive(pid)).toBe(true)
    expect(existsSync(folder)).toBe(true)
    owner.kill('SIGKILL')
    await expect.poll(() => isPidAlive(pid), GONE).toBe(false)
    await expect.poll(() => existsSync(folder), GONE).toBe(false)
  })

  it('owner exits without disposing (watchdog off): the exit handler kills the broker and removes its folder', async () => {
    const { owner, pid, folder } = await ownerWithBroker('exit')
    await expect.poll(() => owner.exitCode, GONE).toBe(3)
    await expect.poll(() => isPidAlive(pid), GONE).toBe(false)
    expect(existsSync(folder)).toBe(false)
  })

  it('a folder whose owner and watchdog are both gone is swept, with its processes, when the next broker starts', async () => {
    const deadOwner = spawnSync('true').pid // a pid that has exited
    const orphan = spawn('sleep', ['60'], { stdio: 'ignore' }) // stands in for a broker
    started.push(orphan)
    const folder = mkdtempSync(join(tmpdir(), 'conduit-private-broker-test-'))
    writeFileSync(join(folder, 'owner.pid'), String(deadOwner))
    writeFileSync(join(folder, 'broker.pids'), `${orphan.pid}\n`)
    sweepOrphans()
    await expect.poll(() => orphan.exitCode !== null || orphan.signalCode !== null, GONE).toBe(true)
    expect(orphan.signalCode).toBe('SIGKILL')
    expect(existsSync(folder)).toBe(false)
  })
})
