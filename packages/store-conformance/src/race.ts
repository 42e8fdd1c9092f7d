import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { extname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ConflictError, type StateStore } from '@conduit/core'

// the child script sits beside this file, as .ts in the workspace and .js once built
const RACE_SCRIPT = fileURLToPath(
  new URL(`./raceProcess${extname(fileURLToPath(import.meta.url))}`, import.meta.url),
)

export interface RaceResult {
  /** increments that `update` completed */
  done: number
  /** increments `update` gave up on (ConflictError after its attempts) */
  gaveUp: number
  /** attempts that lost to the other writer and were retried */
  conflicts: number
}

/** The same race as concurrent tasks on one store, for a store that lives inside one process. */
export async function raceInProcess(
  store: StateStore,
  key: string,
  increments: number,
  writers: number,
): Promise<RaceResult[]> {
  return Promise.all(Array.from({ length: writers }, () => incrementMany(store, key, increments)))
}

/** One writer: `increments` updates of `key`, counting what `update` had to retry or gave up. */
export async function incrementMany(store: StateStore, key: string, increments: number): Promise<RaceResult> {
  let done = 0
  let gaveUp = 0
  let attempts = 0
  for (let index = 0; index < increments; index++) {
    try {
      await store.update<number>(key, (current) => {
        attempts++
        return (current ?? 0) + 1
      })
      done++
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error
      gaveUp++
    }
  }
  // every completed increment had one winning attempt; every other attempt lost a race
  return { done, gaveUp, conflicts: attempts - done }
}

/**
 * Starts `processes` child processes that each run `increments` updates of `key` in the store the
 * factory module opens on `namespace`, all at once, and resolves with what each reports.
 */
export async function runRace(
  factoryModule: string,
  namespace: string,
  key: string,
  increments: number,
  processes: number,
): Promise<RaceResult[]> {
  const children = Array.from({ length: processes }, () =>
    spawn(
      process.execPath,
      ['--import', 'tsx', RACE_SCRIPT, factoryModule, namespace, key, String(increments)],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { ...process.env, CONDUIT_LOG_LEVEL: 'silent' },
      },
    ),
  )
  try {
    const started = children.map((child) => watch(child))
    await Promise.all(started.map(({ ready }) => ready))
    // every writer is connected before any starts, so the writers really overlap
    for (const child of children) child.stdin.write('go\n')
    return await Promise.all(started.map(({ report }) => report))
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
  }
}

function watch(child: ChildProcessWithoutNullStreams): { ready: Promise<void>; report: Promise<RaceResult> } {
  let stdout = ''
  let stderr = ''
  let markReady: () => void = () => undefined
  const ready = new Promise<void>((resolve) => {
    markReady = resolve
  })
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
    if (stdout.includes('ready\n')) markReady()
  })
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const report = new Promise<RaceResult>((resolve, reject) => {
    child.once('exit', (code) => {
      const line = stdout.split('\n').find((candidate) => candidate.startsWith('{'))
      if (code === 0 && line) resolve(JSON.parse(line) as RaceResult)
      else
        reject(new Error(`race process exited with ${code}: ${stderr.slice(-2000) || stdout.slice(-2000)}`))
    })
  })
  // a child that dies before `ready` fails the race instead of hanging it
  return { ready: Promise.race([ready, report.then(() => undefined)]), report }
}
