import { type ChildProcess, spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const FIXTURE = join(packageDir, 'test', 'fixtures', 'serviceProcess.ts')

export interface LogLine {
  msg: string
  /** when the test process read it (performance.now()) */
  readAt: number
  [field: string]: unknown
}

export interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
  /** performance.now() when the exit was seen */
  at: number
}

/** The fixture service process (`node --import tsx`), its JSON log lines collected as they come. */
export class RunnerChild {
  readonly lines: LogLine[] = []
  stderr = ''
  readonly exited: Promise<Exit>
  private readonly child: ChildProcess
  private readonly waiters = new Set<() => void>()

  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
      cwd: packageDir,
      env: {
        ...process.env,
        CONDUIT_LOG_LEVEL: 'info',
        CONDUIT_HEALTH_PORT: '0',
        CONDUIT_HEALTH_HOST: '127.0.0.1',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    this.child.stderr!.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString()
    })
    createInterface({ input: this.child.stdout! }).on('line', (text) => {
      try {
        const line = JSON.parse(text) as LogLine
        if (typeof line.msg !== 'string') return
        line.readAt = performance.now()
        this.lines.push(line)
        for (const wake of this.waiters) wake()
      } catch {
        // not a log line
      }
    })
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        resolve({ code, signal, at: performance.now() })
        for (const wake of this.waiters) wake()
      }),
    )
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null
  }

  line(message: string): LogLine | undefined {
    return this.lines.find((line) => line.msg === message)
  }

  /** Resolves with the first line with this message; rejects if the process exits first or after `timeoutMs`. */
  waitForLine(message: string, timeoutMs = 30_000): Promise<LogLine> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`no "${message}" within ${timeoutMs} ms`)), timeoutMs)
      const check = () => {
        const found = this.line(message)
        if (found) finish(undefined, found)
        else if (!this.running) finish(new Error(`exited before "${message}"; stderr: ${this.stderr}`))
      }
      const finish = (error: Error | undefined, line?: LogLine) => {
        clearTimeout(timer)
        this.waiters.delete(check)
        if (error) reject(error)
        else resolve(line!)
      }
      this.waiters.add(check)
      check()
    })
  }

  /** The health server's URL from the 'process ready' line. */
  async healthUrl(): Promise<string> {
    return String((await this.waitForLine('process ready')).health)
  }

  /** Sends `signal`; resolves with performance.now() at the moment of sending. */
  signal(signal: NodeJS.Signals): number {
    const at = performance.now()
    this.child.kill(signal)
    return at
  }

  /** Test cleanup: SIGKILL if still running. */
  async dispose(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL')
    await this.exited
  }
}

/** GET `url` once: the status and JSON body, or `refused` when nothing listens. */
export async function probe(url: string): Promise<{ status: number; body: any } | 'refused'> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) })
    return { status: response.status, body: await response.json() }
  } catch {
    return 'refused'
  }
}
