import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createConnection, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      )
    })
  })
}

async function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

/**
 * A Mosquitto of our own on a free port, for tests that stop and restart the broker: the
 * shared one on 1883 is used by every other suite and must stay up.
 */
export class PrivateMosquitto {
  private process: ChildProcess | undefined
  private readonly config: string
  private readonly directory: string

  private constructor(
    readonly port: number,
    extraConfig: string[],
  ) {
    const directory = mkdtempSync(join(tmpdir(), 'conduit-mosquitto-'))
    this.directory = directory
    this.config = join(directory, 'mosquitto.conf')
    const lines = [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', ...extraConfig]
    writeFileSync(this.config, `${lines.join('\n')}\n`)
  }

  /** Starts a broker; `extraConfig` lines are appended to its mosquitto.conf. */
  static async start(extraConfig: string[] = []): Promise<PrivateMosquitto> {
    const broker = new PrivateMosquitto(await freePort(), extraConfig)
    await broker.restart()
    return broker
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`
  }

  /** Starts it (again) and resolves once it accepts connections. */
  async restart(): Promise<void> {
    this.process = spawn('mosquitto', ['-c', this.config], { stdio: 'ignore' })
    const until = Date.now() + 10_000
    while (!(await accepting(this.port))) {
      if (Date.now() > until) throw new Error(`mosquitto did not listen on ${this.port} within 10 s`)
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
  }

  /** Kills it (SIGKILL: a crash, not a clean shutdown) and resolves once it is gone. */
  async kill(): Promise<void> {
    const child = this.process
    if (!child || child.exitCode !== null) return
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve())
      child.kill('SIGKILL')
    })
  }

  /** Kills it and removes its temporary directory. */
  async stop(): Promise<void> {
    await this.kill()
    rmSync(this.directory, { recursive: true, force: true })
  }
}
