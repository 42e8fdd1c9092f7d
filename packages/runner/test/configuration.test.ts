import { createServer, type Server } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { RunnerChild } from './support/RunnerChild.js'

const children: RunnerChild[] = []
afterEach(async () => {
  await Promise.all(children.splice(0).map((child) => child.dispose()))
})

describe('configuration errors', () => {
  it('bad variables: exit code 1 and one message naming each variable, its value and what would do', async () => {
    const child = new RunnerChild({
      CONDUIT_BRIDGE: 'kafka',
      CONDUIT_HEALTH_PORT: 'eighty',
      CONDUIT_DRAIN_TIMEOUT_MS: '10s',
    })
    children.push(child)
    expect((await child.exited).code).toBe(1)
    expect(child.stderr).toBe(
      [
        '@conduit/runner: invalid configuration:',
        '  - CONDUIT_HEALTH_PORT="eighty" is not valid: use a whole number from 0 to 65535, or "off"',
        '  - CONDUIT_DRAIN_TIMEOUT_MS="10s" is not valid: use a whole number from 0 to 3600000',
        '  - CONDUIT_BRIDGE="kafka" is not valid: use one of memory, nats, amqp, mqtt, dapr',
        '',
      ].join('\n'),
    )
    expect(child.line('process ready')).toBeUndefined()
  })

  it('a health port in use: exit code 1, the failure logged with the variable to change', async () => {
    const taken: Server = createServer()
    const port = await new Promise<number>((resolve) =>
      taken.listen(0, '127.0.0.1', () => resolve((taken.address() as { port: number }).port)),
    )
    try {
      const child = new RunnerChild({ CONDUIT_BRIDGE: 'memory', CONDUIT_HEALTH_PORT: String(port) })
      children.push(child)
      expect((await child.exited).code).toBe(1)
      const fatal = child.line('process could not start') as { err?: { message?: string } } | undefined
      expect(fatal?.err?.message).toMatch(
        new RegExp(
          `health server could not listen on 127\\.0\\.0\\.1:${port} .*EADDRINUSE.*CONDUIT_HEALTH_PORT`,
        ),
      )
      expect(child.line('process ready')).toBeUndefined()
    } finally {
      taken.close()
    }
  })
})
