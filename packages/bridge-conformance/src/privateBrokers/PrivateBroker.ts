import { type ChildProcess, spawn } from 'node:child_process'
import { isPidAlive, type OwnedFolder } from './owned.js'

const POLL_MS = 25

/**
 * A broker process of a test's own, on a non-standard port with its own data folder, that a
 * fault test may SIGKILL and start again: the shared brokers (4222/5672/1883) are never touched.
 * Processes are stopped by their pid; the folder (config, data, pid records) goes with
 * `dispose()`, or with the owner process however it ends (see OwnedFolder).
 */
export abstract class PrivateBroker {
  private child: ChildProcess | undefined
  private exited: Promise<void> = Promise.resolve()

  protected constructor(
    /** e.g. 'nats-server' (for reports) */
    readonly product: string,
    readonly port: number,
    protected readonly folder: OwnedFolder,
  ) {}

  /** what a bridge connects to */
  abstract get url(): string
  /** the command line that runs the broker in the foreground */
  protected abstract command(): { file: string; args: string[]; env?: NodeJS.ProcessEnv }
  /** true once the broker serves its protocol on `port` */
  protected abstract serving(): Promise<boolean>
  /** pids besides the spawned one that make up the broker (a VM behind a wrapper script) */
  protected extraPids(): number[] {
    return []
  }

  /** the spawned process's pid while it runs */
  get pid(): number | undefined {
    return this.child?.pid
  }

  /** the folder of its config and data (removed with the broker) */
  get folderPath(): string {
    return this.folder.path
  }

  get running(): boolean {
    return this.child !== undefined
  }

  /** Starts it (again: same port, same data) and resolves once it serves (bounded). */
  async start(timeoutMs = 60_000): Promise<void> {
    if (this.child) throw new Error(`${this.product} on ${this.port} is already running`)
    const { file, args, env } = this.command()
    const child = spawn(file, args, { stdio: 'ignore', cwd: this.folder.path, env: env ?? process.env })
    this.child = child
    this.folder.recordPid(child.pid)
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()))
    const deadline = Date.now() + timeoutMs
    while (!(await this.serving())) {
      if (child.exitCode !== null) {
        this.child = undefined
        throw new Error(`${this.product} exited with code ${child.exitCode} before serving on ${this.port}`)
      }
      if (Date.now() > deadline)
        throw new Error(`${this.product} did not serve on ${this.port} within ${timeoutMs} ms`)
      await new Promise((resolve) => setTimeout(resolve, POLL_MS)) // polling interval
    }
    for (const pid of this.extraPids()) this.folder.recordPid(pid)
  }

  /** A clean shutdown (clients are told goodbye); resolves once the broker's process exited. */
  async stop(): Promise<void> {
    const child = this.child
    if (!child) return
    await this.requestShutdown(child.pid)
    await this.exited
    this.child = undefined
  }

  /** Asks the broker to shut down cleanly: SIGTERM unless the broker has its own way. */
  protected async requestShutdown(pid: number | undefined): Promise<void> {
    if (pid !== undefined) process.kill(pid, 'SIGTERM')
  }

  /** SIGKILL: a crash, no goodbye to clients. Resolves once every process of it is gone. */
  async kill(): Promise<void> {
    const child = this.child
    if (!child) return
    const pids = [...this.extraPids(), child.pid].filter((pid): pid is number => pid !== undefined)
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
    await this.exited
    const deadline = Date.now() + 10_000
    while (pids.some(isPidAlive) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, POLL_MS))
    this.child = undefined
  }

  /** Kills it and removes its folder. */
  async dispose(): Promise<void> {
    await this.kill()
    this.folder.remove()
  }
}
