import { spawn } from 'node:child_process'
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createConnection, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

// Private brokers must not outlive the test worker that started them, even when that worker is
// killed with SIGKILL (no exit handler runs then). Three layers, each enough on its own:
// - an 'exit' handler kills every recorded broker pid and removes the folders (normal and
//   uncaught-error exits);
// - a detached watchdog per folder polls the owner pid once a second and, once it is gone,
//   kills the pids recorded in the folder and removes it (a crashed worker);
// - every new folder first sweeps the folders of owners that no longer exist (a watchdog that
//   was itself killed).

const FOLDER_PREFIX = 'conduit-private-broker-'
const OWNER_FILE = 'owner.pid'
const PIDS_FILE = 'broker.pids'
const WATCHDOG = `
while kill -0 "$1" 2>/dev/null && [ -d "$2" ]; do sleep 1; done
[ -d "$2" ] || exit 0
for pid in $(cat "$2/${PIDS_FILE}" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
rm -rf "$2"
`

const liveFolders = new Set<string>()
let exitHandlerInstalled = false

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function recordedPids(folder: string): number[] {
  try {
    return readFileSync(join(folder, PIDS_FILE), 'utf8')
      .split(/\s+/)
      .map(Number)
      .filter((pid) => Number.isInteger(pid) && pid > 1)
  } catch {
    return []
  }
}

function killRecorded(folder: string): void {
  for (const pid of recordedPids(folder)) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
}

/** Kills the brokers and removes the folders of owners that no longer run. */
export function sweepOrphans(): void {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(FOLDER_PREFIX)) continue
    const folder = join(tmpdir(), name)
    let owner: number
    try {
      owner = Number(readFileSync(join(folder, OWNER_FILE), 'utf8'))
    } catch {
      continue // being created right now, or not ours
    }
    if (!Number.isInteger(owner) || alive(owner)) continue
    killRecorded(folder)
    rmSync(folder, { recursive: true, force: true })
  }
}

function installExitHandler(): void {
  if (exitHandlerInstalled) return
  exitHandlerInstalled = true
  process.on('exit', () => {
    for (const folder of liveFolders) {
      killRecorded(folder)
      rmSync(folder, { recursive: true, force: true })
    }
  })
}

/**
 * A temp folder owned by this process, for one private broker's config and data. Broker pids
 * recorded with `recordPid` are killed, and the folder removed, when the owner goes away by
 * any means; `remove()` does both now.
 */
export class OwnedFolder {
  private constructor(readonly path: string) {}

  static create(label: string): OwnedFolder {
    sweepOrphans()
    installExitHandler()
    const path = mkdtempSync(join(tmpdir(), `${FOLDER_PREFIX}${label}-`))
    writeFileSync(join(path, OWNER_FILE), String(process.pid))
    liveFolders.add(path)
    // (off only in the test that checks the exit handler on its own)
    if (process.env.CONDUIT_BROKER_WATCHDOG !== 'off') {
      spawn('sh', ['-c', WATCHDOG, 'conduit-broker-watchdog', String(process.pid), path], {
        detached: true,
        stdio: 'ignore',
      }).unref()
    }
    return new OwnedFolder(path)
  }

  recordPid(pid: number | undefined): void {
    if (pid !== undefined) appendFileSync(join(this.path, PIDS_FILE), `${pid}\n`)
  }

  /** Kills what is still recorded and deletes the folder (the watchdog then exits). */
  remove(): void {
    killRecorded(this.path)
    rmSync(this.path, { recursive: true, force: true })
    liveFolders.delete(this.path)
  }
}

/** A port nothing listens on right now (the OS picks it; far from 4222/5672/1883). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      )
    })
  })
}

/** Resolves true once `port` answers, and the first bytes `greeting` gets back satisfy `answered`. */
export function probe(port: number, greeting?: Uint8Array): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(2_000, () => done(false))
    socket.once('error', () => done(false))
    socket.once('connect', () => {
      if (!greeting) return done(true)
      socket.write(greeting)
      socket.once('data', () => done(true))
    })
  })
}

export function isPidAlive(pid: number): boolean {
  return alive(pid)
}
