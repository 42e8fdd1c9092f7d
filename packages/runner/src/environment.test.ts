import { describe, expect, it } from 'vitest'
import {
  ConfigurationError,
  type Environment,
  EnvironmentReader,
  readBridgeSettings,
  readProcessSettings,
} from './environment.js'

function read(env: Environment) {
  const reader = new EnvironmentReader(env)
  const process = readProcessSettings(reader)
  const bridge = readBridgeSettings(reader)
  reader.throwIfInvalid()
  return { process, bridge }
}

function problemsOf(env: Environment): readonly string[] {
  try {
    read(env)
  } catch (error) {
    if (error instanceof ConfigurationError) return error.problems
    throw error
  }
  throw new Error('expected a ConfigurationError')
}

describe('environment', () => {
  it('defaults: memory bridge, health on 0.0.0.0:8081, 10 s drain, info', () => {
    expect(read({})).toEqual({
      process: { health: { port: 8081, hostname: '0.0.0.0' }, drainTimeoutMs: 10_000, logLevel: 'info' },
      bridge: { kind: 'memory', kindDefaulted: true, prefix: undefined },
    })
  })

  it('empty values count as unset', () => {
    expect(read({ CONDUIT_BRIDGE: '', CONDUIT_HEALTH_PORT: ' ', CONDUIT_PREFIX: '' })).toEqual(read({}))
  })

  it('reads every variable of the chosen bridge', () => {
    const { process, bridge } = read({
      CONDUIT_BRIDGE: 'NATS',
      NATS_URL: 'nats://a:4222, b:4223',
      NATS_ACK_WAIT_MS: '2000',
      CONDUIT_PREFIX: 'shop-eu_1',
      CONDUIT_HEALTH_PORT: '0',
      CONDUIT_HEALTH_HOST: '127.0.0.1',
      CONDUIT_DRAIN_TIMEOUT_MS: '2500',
      CONDUIT_LOG_LEVEL: 'warn',
    })
    expect(process).toEqual({
      health: { port: 0, hostname: '127.0.0.1' },
      drainTimeoutMs: 2500,
      logLevel: 'warn',
    })
    expect(bridge).toEqual({
      kind: 'nats',
      kindDefaulted: false,
      prefix: 'shop-eu_1',
      servers: ['nats://a:4222', 'b:4223'],
      ackWaitMs: 2000,
    })
    expect(read({ CONDUIT_HEALTH_PORT: 'off' }).process.health).toBe(false)
    expect(read({ CONDUIT_BRIDGE: 'amqp', AMQP_URL: 'amqps://u:p@mq:5671/vh' }).bridge).toMatchObject({
      url: 'amqps://u:p@mq:5671/vh',
    })
    expect(read({ CONDUIT_BRIDGE: 'mqtt' }).bridge).toMatchObject({ url: 'mqtt://127.0.0.1:1883' })
    expect(
      read({ CONDUIT_BRIDGE: 'dapr', DAPR_HTTP_PORT: '3501', APP_PORT: '6000', APP_ID: 'user-v1' }).bridge,
    ).toMatchObject({
      kind: 'dapr',
      daprHttpPort: 3501,
      appPort: 6000,
      appId: 'user-v1',
      daprHost: undefined,
    })
  })

  it('names every bad variable, its value and what would do, all at once', () => {
    expect(
      problemsOf({
        CONDUIT_BRIDGE: 'kafka',
        CONDUIT_HEALTH_PORT: '80a',
        CONDUIT_DRAIN_TIMEOUT_MS: '-1',
        CONDUIT_LOG_LEVEL: 'loud',
        CONDUIT_PREFIX: 'a.b',
      }),
    ).toEqual([
      'CONDUIT_HEALTH_PORT="80a" is not valid: use a whole number from 0 to 65535, or "off"',
      'CONDUIT_DRAIN_TIMEOUT_MS="-1" is not valid: use a whole number from 0 to 3600000',
      'CONDUIT_LOG_LEVEL="loud" is not valid: use one of trace, debug, info, warn, error, fatal, silent',
      'CONDUIT_BRIDGE="kafka" is not valid: use one of memory, nats, amqp, mqtt, dapr',
      'CONDUIT_PREFIX="a.b" is not valid: use 1 to 64 letters, digits, "_" or "-"',
    ])
  })

  it.each([
    [{ CONDUIT_HEALTH_PORT: '65536' }, 'CONDUIT_HEALTH_PORT="65536"'],
    [{ CONDUIT_HEALTH_PORT: '1e3' }, 'CONDUIT_HEALTH_PORT="1e3"'],
    [{ CONDUIT_BRIDGE: 'nats', NATS_URL: 'http://x:4222' }, 'NATS_URL="http://x:4222"'],
    [{ CONDUIT_BRIDGE: 'nats', NATS_URL: 'nats://a:4222,' }, 'NATS_URL="nats://a:4222,"'],
    [{ CONDUIT_BRIDGE: 'nats', NATS_ACK_WAIT_MS: '0' }, 'NATS_ACK_WAIT_MS="0"'],
    [{ CONDUIT_BRIDGE: 'amqp', AMQP_URL: 'guest@localhost' }, 'AMQP_URL="guest@localhost"'],
    [{ CONDUIT_BRIDGE: 'amqp', AMQP_URL: 'amqp://a,amqp://b' }, 'AMQP_URL="amqp://a,amqp://b"'],
    [{ CONDUIT_BRIDGE: 'mqtt', MQTT_URL: 'nats://x:1883' }, 'MQTT_URL="nats://x:1883"'],
    [{ CONDUIT_BRIDGE: 'dapr', DAPR_HTTP_PORT: 'x' }, 'DAPR_HTTP_PORT="x"'],
    [{ CONDUIT_BRIDGE: 'dapr', APP_PORT: '70000' }, 'APP_PORT="70000"'],
  ])('rejects %o', (env, start) => {
    const problems = problemsOf(env)
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(new RegExp(`^${start.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not valid: `))
  })

  it("does not read another bridge's variables", () => {
    expect(read({ CONDUIT_BRIDGE: 'amqp', NATS_URL: 'garbage' }).bridge.kind).toBe('amqp')
  })
})
