import { type ChildProcess, spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const sourceDir = dirname(fileURLToPath(import.meta.url))

export type ProcessScript = 'user-process' | 'email-process' | 'all-in-one' | 'gateway-process'

export interface LogLine {
  msg: string
  [key: string]: unknown
}

/** One service process of the example, with its JSON log lines collected as they arrive. */
export class ServiceProcess {
  readonly lines: LogLine[] = []
  readonly ready: Promise<void>
  readonly exited: Promise<number | null>
  private readonly child: ChildProcess

  constructor(
    readonly label: string,
    script: ProcessScript,
    env: Record<string, string>,
  ) {
    this.child = spawn(process.execPath, ['--import', 'tsx', join(sourceDir, `${script}.ts`)], {
      cwd: join(sourceDir, '..'),
      // several processes on one host: each serves its health on a free loopback port (logged)
      env: {
        ...process.env,
        CONDUIT_LOG_LEVEL: 'info',
        CONDUIT_HEALTH_PORT: '0',
        CONDUIT_HEALTH_HOST: '127.0.0.1',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)))
    this.ready = new Promise((resolve, reject) => {
      createInterface({ input: this.child.stdout! }).on('line', (text) => {
        const line = parseLine(text)
        if (!line) return
        this.lines.push(line)
        if (line.msg === 'process ready' || line.msg === 'gateway listening') resolve()
      })
      void this.exited.then((code) => reject(new Error(`${label} exited with ${code} before it was ready`)))
    })
  }

  count(message: string): number {
    return this.lines.filter((line) => line.msg === message).length
  }

  /** Asks for a graceful stop (SIGTERM) or kills at once (SIGKILL: no cleanup, no acks). */
  stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal)
    return this.exited
  }
}

function parseLine(text: string): LogLine | undefined {
  try {
    const value = JSON.parse(text) as LogLine
    return typeof value.msg === 'string' ? value : undefined
  } catch {
    return undefined // not a log line (e.g. a console message)
  }
}

/** Sent mails by user id across processes, as logged by the email service. */
export function mailsByUser(processes: ServiceProcess[]): Map<string, number> {
  const mails = new Map<string, number>()
  for (const child of processes) {
    for (const line of child.lines) {
      if (line.msg !== 'welcome mail sent') continue
      const userId = String(line.userId)
      mails.set(userId, (mails.get(userId) ?? 0) + 1)
    }
  }
  return mails
}
