import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { withBootLock } from '@conduit/bridge-conformance'
import { connect } from 'amqplib'

const run = promisify(execFile)

const RABBITMQ_SERVER = '/usr/sbin/rabbitmq-server'
const RABBITMQCTL = '/usr/sbin/rabbitmqctl'

/** Why a private node cannot run here, or undefined when it can. */
export function privateNodeUnavailable(): string | undefined {
  if (!existsSync(RABBITMQ_SERVER) || !existsSync(RABBITMQCTL)) {
    return `${RABBITMQ_SERVER} / ${RABBITMQCTL} not installed`
  }
  return undefined
}

/**
 * A RabbitMQ node of its own, on its own ports and data directory, that a test may stop and
 * start at will: the shared broker on 5672 is never restarted under other tests. Its data
 * directory survives stop/start, so durable queues and persistent messages do too.
 */
export class PrivateRabbitNode {
  readonly nodeName: string
  readonly port: number
  readonly url: string
  private process: ChildProcess | undefined

  private constructor(
    private readonly directory: string,
    port: number,
  ) {
    this.port = port
    this.nodeName = `conduit-amqp-test-${process.pid}-${port}@localhost`
    this.url = `amqp://guest:guest@127.0.0.1:${port}`
  }

  /** Prepares a data directory and picks ports; `start()` boots the node. */
  static async create(port = 20_000 + Math.floor(Math.random() * 20_000)): Promise<PrivateRabbitNode> {
    const directory = await mkdtemp(join(tmpdir(), 'conduit-rabbit-'))
    // The node runs as the rabbitmq user (the wrapper switches to it when run as root).
    await chmod(directory, 0o777)
    const config = join(directory, 'rabbitmq.conf')
    await writeFile(config, `listeners.tcp.default = 127.0.0.1:${port}\n`, { mode: 0o644 })
    await writeFile(join(directory, 'enabled_plugins'), '[].\n', { mode: 0o666 })
    return new PrivateRabbitNode(directory, port)
  }

  private get environment(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      RABBITMQ_NODENAME: this.nodeName,
      RABBITMQ_NODE_PORT: String(this.port),
      RABBITMQ_DIST_PORT: String(this.port + 20_000),
      RABBITMQ_MNESIA_BASE: join(this.directory, 'mnesia'),
      RABBITMQ_LOG_BASE: join(this.directory, 'log'),
      RABBITMQ_CONFIG_FILE: join(this.directory, 'rabbitmq.conf'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(this.directory, 'enabled_plugins'),
      RABBITMQ_PID_FILE: join(this.directory, 'rabbitmq.pid'),
    }
  }

  /**
   * Boots the node and resolves once it accepts AMQP connections (bounded by `timeoutMs`); one
   * RabbitMQ boot at a time on this machine, as the conformance suite's private nodes boot too.
   */
  start(timeoutMs = 60_000): Promise<void> {
    return withBootLock('rabbitmq', () => this.boot(timeoutMs))
  }

  private async boot(timeoutMs: number): Promise<void> {
    const child = spawn(RABBITMQ_SERVER, [], { env: this.environment, stdio: 'ignore', cwd: this.directory })
    this.process = child
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code) => reject(new Error(`rabbitmq-server exited early with code ${code}`))),
    )
    exited.catch(() => undefined)
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const model = await Promise.race([connect(this.url), exited]).catch(() => undefined)
      if (model) {
        await model.close()
        return
      }
      if (child.exitCode !== null) throw new Error(`rabbitmq-server exited with code ${child.exitCode}`)
      if (Date.now() > deadline) throw new Error(`private RabbitMQ node did not start within ${timeoutMs} ms`)
      await new Promise((resolve) => setTimeout(resolve, 200)) // polling interval, not a wait for an outcome
    }
  }

  /** Stops the whole node (the Erlang VM exits), like a broker restart or crash. */
  async stop(): Promise<void> {
    await run(RABBITMQCTL, ['-n', this.nodeName, 'stop'], { env: this.environment }).catch(() => undefined)
    const child = this.process
    this.process = undefined
    if (child && child.exitCode === null) {
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve())
        if (child.exitCode !== null) resolve()
      })
    }
  }

  /** Stops the node and deletes its data directory. */
  async destroy(): Promise<void> {
    await this.stop()
    await rm(this.directory, { recursive: true, force: true })
  }
}
