import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** How long a boot may hold the lock before a waiter treats it as abandoned. */
const HELD_AT_MOST_MS = 120_000

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/**
 * Runs `boot` while no other process on this machine boots the same kind of broker. Two
 * RabbitMQ nodes booting at once (test files of different workers) made one of them exit
 * before serving; one at a time they both come up. The lock is a folder (mkdir is atomic),
 * taken over when its holder's process is gone or it is older than HELD_AT_MOST_MS.
 */
export async function withBootLock<T>(
  kind: string,
  boot: () => Promise<T>,
  waitAtMostMs = 180_000,
): Promise<T> {
  const lock = join(tmpdir(), `conduit-${kind}-boot.lock`)
  const owner = join(lock, 'owner')
  const deadline = Date.now() + waitAtMostMs
  for (;;) {
    try {
      mkdirSync(lock)
      writeFileSync(owner, `${process.pid} ${Date.now()}`)
      break
    } catch {
      const [pid, since] = (() => {
        try {
          return readFileSync(owner, 'utf8').split(' ').map(Number)
        } catch {
          return [Number.NaN, Number.NaN]
        }
      })()
      const abandoned =
        (pid !== undefined && Number.isInteger(pid) && !alive(pid)) ||
        (since !== undefined && Number.isFinite(since) && Date.now() - since > HELD_AT_MOST_MS)
      if (abandoned) rmSync(lock, { recursive: true, force: true })
      else if (Date.now() > deadline) throw new Error(`waited ${waitAtMostMs} ms for ${lock}`)
      else await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  try {
    return await boot()
  } finally {
    rmSync(lock, { recursive: true, force: true })
  }
}
