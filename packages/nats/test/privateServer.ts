import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { vi } from 'vitest'

const BINARY = process.env.NATS_SERVER_BIN ?? 'nats-server'

/** Why a private server cannot run here, or undefined when it can. */
export function privateServerUnavailable(): string | undefined {
  try {
    execFileSync(BINARY, ['--version'], { stdio: 'ignore' })
    return undefined
  } catch {
    return `${BINARY} is not installed (set NATS_SERVER_BIN)`
  }
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket()
    socket.once('connect', () => resolve(socket.destroy() && true))
    socket.once('error', () => resolve(false))
    socket.connect(port, '127.0.0.1')
  })
}

/**
 * A nats-server of our own (JetStream on, its own port and store directory) that a test may
 * kill and restart without disturbing the shared server on 4222.
 */
export class PrivateNatsServer {
  private process: ChildProcess | undefined
  private storeDir: string

  private constructor(
    readonly port: number,
    private readonly jetStream: boolean,
  ) {
    this.storeDir = mkdtempSync(join(tmpdir(), 'conduit-nats-'))
  }

  static async start(options: { jetStream?: boolean } = {}): Promise<PrivateNatsServer> {
    const server = new PrivateNatsServer(await freePort(), options.jetStream ?? true)
    await server.launch()
    return server
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`
  }

  /** Kills the server the hard way (no goodbye to clients). */
  async kill(): Promise<void> {
    const child = this.process
    if (!child || child.exitCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGKILL')
    await exited
    this.process = undefined
  }

  /** Starts again on the same port; `freshState` throws away streams and consumers. */
  async restart(options: { freshState?: boolean } = {}): Promise<void> {
    await this.kill()
    if (options.freshState) {
      rmSync(this.storeDir, { recursive: true, force: true })
      this.storeDir = mkdtempSync(join(tmpdir(), 'conduit-nats-'))
    }
    await this.launch()
  }

  async dispose(): Promise<void> {
    await this.kill()
    rmSync(this.storeDir, { recursive: true, force: true })
  }

  private async launch(): Promise<void> {
    const jetStream = this.jetStream ? ['-js', '-sd', this.storeDir] : []
    this.process = spawn(BINARY, ['-a', '127.0.0.1', '-p', String(this.port), ...jetStream], {
      stdio: 'ignore',
    })
    await vi.waitFor(
      async () => {
        if (!(await accepts(this.port))) throw new Error(`nats-server not accepting on ${this.port} yet`)
      },
      { timeout: 10_000, interval: 50 },
    )
  }
}
