import { execFile, execFileSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { withBootLock } from './bootLock.js'
import { freePort, OwnedFolder, probe } from './owned.js'
import { PrivateBroker } from './PrivateBroker.js'

const NATS_SERVER = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server'
const MOSQUITTO = process.env.MOSQUITTO_BIN ?? '/usr/sbin/mosquitto'
const RABBITMQ_SERVER = '/usr/sbin/rabbitmq-server'

/** nats-server with JetStream, its store in the owned folder (kept across kill and start). */
export class PrivateNatsServer extends PrivateBroker {
  static async start(): Promise<PrivateNatsServer> {
    const broker = new PrivateNatsServer('nats-server', await freePort(), OwnedFolder.create('nats'))
    await broker.start()
    return broker
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`
  }

  protected command() {
    const store = join(this.folder.path, 'jetstream')
    return { file: NATS_SERVER, args: ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', store] }
  }

  // The INFO line arrives first; JetStream is up by the time the port accepts.
  protected serving(): Promise<boolean> {
    return probe(this.port)
  }
}

/**
 * Mosquitto with persistence on. LOSSLESS_SETTINGS are the ones that keep durable subscriptions
 * from dropping queued events (see docs/bridges/mqtt.md): `max_queued_messages 0` (the default
 * 1000 drops the rest) and `max_inflight_messages 0`. CRASH_SAFE_SETTINGS save the in-memory
 * store after every queued message: Mosquitto otherwise saves it every 30 minutes, so a SIGKILL
 * loses every acknowledged message queued since. Each save writes the whole store, so a deep
 * queue makes it quadratic: the fault group turns it on only for the broker-kill tests.
 */
export class PrivateMosquitto extends PrivateBroker {
  static readonly LOSSLESS_SETTINGS = ['max_queued_messages 0', 'max_inflight_messages 0']
  static readonly CRASH_SAFE_SETTINGS = ['autosave_on_changes true', 'autosave_interval 1']

  static async start(
    settings: readonly string[] = PrivateMosquitto.LOSSLESS_SETTINGS,
  ): Promise<PrivateMosquitto> {
    const folder = OwnedFolder.create('mosquitto')
    // Started as root, mosquitto drops to its own user: it must be able to write its store here.
    chmodSync(folder.path, 0o777)
    const broker = new PrivateMosquitto('mosquitto', await freePort(), folder)
    broker.configure(settings)
    await broker.start()
    return broker
  }

  /** Writes its config with `settings`; a running broker restarts (kill, start) to take them. */
  async reconfigure(settings: readonly string[]): Promise<void> {
    const wasRunning = this.running
    await this.kill()
    this.configure(settings)
    if (wasRunning) await this.start()
  }

  private configure(settings: readonly string[]): void {
    const lines = [
      'per_listener_settings false',
      `listener ${this.port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence true',
      `persistence_location ${this.folder.path}/`,
      ...settings,
    ]
    writeFileSync(join(this.folder.path, 'mosquitto.conf'), `${lines.join('\n')}\n`)
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`
  }

  protected command() {
    return { file: MOSQUITTO, args: ['-c', join(this.folder.path, 'mosquitto.conf')] }
  }

  protected serving(): Promise<boolean> {
    return probe(this.port)
  }
}

/** AMQP 0-9-1 protocol header: a serving node answers with Connection.Start. */
const AMQP_HEADER = new Uint8Array([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1])

/**
 * A RabbitMQ node of its own (own node name, ports, mnesia and log folders). The wrapper runs
 * the Erlang VM as the rabbitmq user in a session of its own, so a kill targets the VM's pid
 * (RABBITMQ_PID_FILE) as well as the wrapper. Mnesia survives kill and start: durable queues
 * and persistent messages do too. Booting takes seconds: start one per test file.
 */
export class PrivateRabbitNode extends PrivateBroker {
  static unavailable(): string | undefined {
    return existsSync(RABBITMQ_SERVER) ? undefined : `${RABBITMQ_SERVER} is not installed`
  }

  static async start(timeoutMs = 90_000): Promise<PrivateRabbitNode> {
    const folder = OwnedFolder.create('rabbitmq')
    chmodSync(folder.path, 0o777) // the node runs as the rabbitmq user
    const port = await freePort()
    writeFileSync(join(folder.path, 'rabbitmq.conf'), `listeners.tcp.default = 127.0.0.1:${port}\n`, {
      mode: 0o644,
    })
    writeFileSync(join(folder.path, 'enabled_plugins'), '[].\n', { mode: 0o666 })
    for (const sub of ['mnesia', 'log']) {
      mkdirSync(join(folder.path, sub), { mode: 0o777 })
      chmodSync(join(folder.path, sub), 0o777)
    }
    const node = new PrivateRabbitNode('rabbitmq-server', port, folder)
    await node.start(timeoutMs)
    return node
  }

  /** One RabbitMQ boot at a time on this machine (see withBootLock). */
  override start(timeoutMs?: number): Promise<void> {
    return withBootLock('rabbitmq', () => super.start(timeoutMs))
  }

  get url(): string {
    return `amqp://guest:guest@127.0.0.1:${this.port}`
  }

  get nodeName(): string {
    return `conduit-faults-${process.pid}-${this.port}@localhost`
  }

  private get pidFile(): string {
    return join(this.folder.path, 'rabbitmq.pid')
  }

  protected command() {
    const dir = this.folder.path
    // The distribution port is picked by the OS too: the node's own + 20000 may be taken.
    return {
      file: RABBITMQ_SERVER,
      args: [],
      env: {
        ...process.env,
        RABBITMQ_NODENAME: this.nodeName,
        RABBITMQ_NODE_PORT: String(this.port),
        RABBITMQ_DIST_PORT: String(this.distPort),
        RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
        RABBITMQ_LOG_BASE: join(dir, 'log'),
        RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
        RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
        RABBITMQ_PID_FILE: this.pidFile,
      },
    }
  }

  private distPortValue: number | undefined
  private get distPort(): number {
    this.distPortValue ??= this.port + 1 > 65_000 ? this.port - 1 : this.port + 1
    return this.distPortValue
  }

  protected serving(): Promise<boolean> {
    return probe(this.port, AMQP_HEADER)
  }

  protected override extraPids(): number[] {
    try {
      const pid = Number(readFileSync(this.pidFile, 'utf8').trim())
      return Number.isInteger(pid) && pid > 1 ? [pid] : []
    } catch {
      return []
    }
  }

  /** `rabbitmqctl stop`: the node closes its connections and the Erlang VM exits. */
  protected override async requestShutdown(): Promise<void> {
    // Asynchronously: clients must see the broker close their connections while it stops.
    await new Promise<void>((resolve) => {
      execFile('/usr/sbin/rabbitmqctl', ['-n', this.nodeName, 'stop'], () => resolve()) // a failure: the wait for its exit tells
    })
  }

  /** the node's own view of its health, for diagnostics when a boot fails */
  status(): string {
    try {
      return execFileSync('/usr/sbin/rabbitmqctl', ['-n', this.nodeName, 'status'], { encoding: 'utf8' })
    } catch (error) {
      return String(error)
    }
  }
}
