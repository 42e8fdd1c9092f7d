/** What the process reads from its environment; a missing or empty variable takes its default. */
export type Environment = Readonly<Record<string, string | undefined>>

export const BRIDGE_KINDS = ['memory', 'nats', 'amqp', 'mqtt', 'dapr'] as const
export type BridgeKind = (typeof BRIDGE_KINDS)[number]

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

export const DEFAULT_HEALTH_PORT = 8081
export const DEFAULT_HEALTH_HOST = '0.0.0.0'
export const DEFAULT_DRAIN_TIMEOUT_MS = 10_000

/**
 * The deployment is misconfigured: a variable has a value the runner cannot use, or the chosen
 * bridge's package is not installed. Every problem found is listed, each naming its variable.
 */
export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError'

  constructor(readonly problems: readonly string[]) {
    super(
      problems.length === 1
        ? `invalid configuration: ${problems[0]}`
        : `invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`,
    )
  }
}

/**
 * Reads variables and collects every problem, so an operator fixes them all in one round
 * instead of one per restart. `throwIfInvalid()` ends the reading.
 */
export class EnvironmentReader {
  private readonly problems: string[] = []

  constructor(private readonly env: Environment) {}

  /** the value, or undefined when the variable is unset or empty */
  text(name: string): string | undefined {
    const value = this.env[name]?.trim()
    return value === undefined || value === '' ? undefined : value
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.text(name)
    if (value === undefined) return fallback
    const lower = value.toLowerCase() as T
    if (allowed.includes(lower)) return lower
    return this.invalid(name, value, `use one of ${allowed.join(', ')}`, fallback)
  }

  /** a whole number from `min` to `max` */
  integer(name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER, orElse = ''): number {
    const value = this.text(name)
    if (value === undefined) return fallback
    const number = Number(value)
    if (/^\d+$/.test(value) && number >= min && number <= max) return number
    return this.invalid(name, value, `use a whole number from ${min} to ${max}${orElse}`, fallback)
  }

  port(name: string, fallback: number, orElse = ''): number {
    return this.integer(name, fallback, 0, 65_535, orElse)
  }

  /** a comma-separated list of URLs whose scheme is one of `schemes` (`host:port` takes the first) */
  urls(name: string, fallback: string, schemes: readonly string[]): string[] {
    const value = this.text(name) ?? fallback
    const entries = value.split(',').map((entry) => entry.trim())
    const valid = entries.every((entry) => {
      try {
        const url = new URL(entry.includes('://') ? entry : `${schemes[0]}://${entry}`)
        return schemes.includes(url.protocol.slice(0, -1)) && url.hostname !== ''
      } catch {
        return false
      }
    })
    if (valid && entries.length > 0) return entries
    const expected = `use ${schemes.map((scheme) => `${scheme}://host:port`).join(' or ')}`
    return this.invalid(name, value, entries.length > 1 ? `${expected}, comma-separated` : expected, [])
  }

  url(name: string, fallback: string, schemes: readonly string[]): string {
    const value = this.text(name)
    if (value === undefined) return fallback
    if (value.includes(',') || !value.includes('://'))
      return this.invalid(name, value, `give one URL: ${schemes[0]}://host:port`, fallback)
    return this.urls(name, fallback, schemes)[0] ?? fallback
  }

  /** a name safe as a subject token, queue or topic level on every broker */
  prefix(name: string): string | undefined {
    const value = this.text(name)
    if (value === undefined || /^[A-Za-z0-9_-]{1,64}$/.test(value)) return value
    return this.invalid(name, value, 'use 1 to 64 letters, digits, "_" or "-"', undefined)
  }

  /** Throws a ConfigurationError listing every problem found so far. */
  throwIfInvalid(): void {
    if (this.problems.length > 0) throw new ConfigurationError(this.problems)
  }

  private invalid<T>(name: string, value: string, hint: string, fallback: T): T {
    this.problems.push(`${name}=${JSON.stringify(value)} is not valid: ${hint}`)
    return fallback
  }
}

export interface ProcessSettings {
  /** false: no health server (CONDUIT_HEALTH_PORT=off) */
  health: { port: number; hostname: string } | false
  drainTimeoutMs: number
  logLevel: LogLevel
}

/** CONDUIT_HEALTH_PORT, CONDUIT_HEALTH_HOST, CONDUIT_DRAIN_TIMEOUT_MS, CONDUIT_LOG_LEVEL. */
export function readProcessSettings(reader: EnvironmentReader): ProcessSettings {
  const healthOff = reader.text('CONDUIT_HEALTH_PORT')?.toLowerCase() === 'off'
  const port = healthOff ? 0 : reader.port('CONDUIT_HEALTH_PORT', DEFAULT_HEALTH_PORT, ', or "off"')
  const hostname = reader.text('CONDUIT_HEALTH_HOST') ?? DEFAULT_HEALTH_HOST
  return {
    health: healthOff ? false : { port, hostname },
    drainTimeoutMs: readDrainTimeout(reader),
    logLevel: readLogLevel(reader),
  }
}

export function readDrainTimeout(reader: EnvironmentReader): number {
  return reader.integer('CONDUIT_DRAIN_TIMEOUT_MS', DEFAULT_DRAIN_TIMEOUT_MS, 0, 3_600_000)
}

export function readLogLevel(reader: EnvironmentReader): LogLevel {
  return reader.oneOf('CONDUIT_LOG_LEVEL', LOG_LEVELS, 'info')
}

/** Which bridge to build and the settings it reads; only the chosen bridge's variables are read. */
export type BridgeSettings = {
  /** true when CONDUIT_BRIDGE was not set */
  readonly kindDefaulted: boolean
  readonly prefix: string | undefined
} & (
  | { readonly kind: 'memory' }
  | { readonly kind: 'nats'; readonly servers: string[]; readonly ackWaitMs: number | undefined }
  | { readonly kind: 'amqp' | 'mqtt'; readonly url: string }
  | {
      readonly kind: 'dapr'
      readonly daprHost: string | undefined
      readonly daprHttpPort: number | undefined
      readonly appPort: number | undefined
      readonly appId: string | undefined
      readonly daprApiToken: string | undefined
    }
)

/** CONDUIT_BRIDGE, CONDUIT_PREFIX and the chosen bridge's own variables. */
export function readBridgeSettings(reader: EnvironmentReader): BridgeSettings {
  const kind = reader.oneOf('CONDUIT_BRIDGE', BRIDGE_KINDS, 'memory')
  const common = {
    kindDefaulted: reader.text('CONDUIT_BRIDGE') === undefined,
    prefix: reader.prefix('CONDUIT_PREFIX'),
  }
  const optional = <T>(name: string, read: () => T) => (reader.text(name) === undefined ? undefined : read())
  switch (kind) {
    case 'memory':
      return { ...common, kind }
    case 'nats':
      return {
        ...common,
        kind,
        servers: reader.urls('NATS_URL', 'nats://127.0.0.1:4222', ['nats', 'tls', 'ws', 'wss']),
        ackWaitMs: optional('NATS_ACK_WAIT_MS', () => reader.integer('NATS_ACK_WAIT_MS', 0, 1, 86_400_000)),
      }
    case 'amqp':
      return {
        ...common,
        kind,
        url: reader.url('AMQP_URL', 'amqp://guest:guest@127.0.0.1:5672', ['amqp', 'amqps']),
      }
    case 'mqtt':
      return {
        ...common,
        kind,
        url: reader.url('MQTT_URL', 'mqtt://127.0.0.1:1883', ['mqtt', 'mqtts', 'tcp', 'tls', 'ws', 'wss']),
      }
    case 'dapr':
      // The names and meanings are those @conduit/dapr reads itself (packages/dapr/src/options.ts);
      // read here too so a bad port is an error instead of a silent fallback to the default.
      return {
        ...common,
        kind,
        daprHost: reader.text('DAPR_HOST'),
        daprHttpPort: optional('DAPR_HTTP_PORT', () => reader.port('DAPR_HTTP_PORT', 0)),
        appPort: optional('APP_PORT', () => reader.port('APP_PORT', 0)),
        appId: reader.text('APP_ID'),
        daprApiToken: reader.text('DAPR_API_TOKEN'),
      }
  }
}
