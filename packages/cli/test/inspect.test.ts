import { describe, expect, it } from 'vitest'
import { conduit, EXAMPLE_DEFINITIONS } from './support.js'

describe('conduit inspect', () => {
  it('prints each service with its commands and routes, events, subscriptions and their needs', async () => {
    const run = await conduit('inspect', ...EXAMPLE_DEFINITIONS)
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('user v1: Registers users and reads them back')
    expect(run.stdout).toContain('registerNewUser: POST /api/v1/user/users (public); needs requestReply')
    expect(run.stdout).toContain('getUser: GET /api/v1/user/users/:userId (public)')
    expect(run.stdout).toContain('events emitted: user.registered (from registerNewUser)')
    expect(run.stdout).toContain(
      'sendWelcomeMail: on user.registered; delivery durable (maxAttempts 5); group email.v1.sendWelcomeMail; filters none; needs durable',
    )
  })

  it('--bridge nats: states that the bridge can run them, exit code 0', async () => {
    const run = await conduit('inspect', ...EXAMPLE_DEFINITIONS, '--bridge', 'nats')
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('bridge nats: can run every command and subscription above')
    expect(run.stderr).toBe('')
  })

  it('refuses a durable subscription on a bridge without durability, naming both, exit code 1', async () => {
    const run = await conduit(
      'inspect',
      ...EXAMPLE_DEFINITIONS,
      '--bridge',
      './test/fixtures/bridgeWithoutDurability.ts',
    )
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('bridge memory-without-durability: cannot run 1 of them')
    // the message start() would throw (CapabilityError), for the same subject
    expect(run.stderr).toContain(
      'memory-without-durability cannot run subscription email.v1.sendWelcomeMail: it needs the capability "durable"',
    )
    expect(run.stderr).toContain('this test bridge keeps no events')
  })

  it('names every capability Dapr lacks for an every-instance wildcard subscription', async () => {
    const run = await conduit('inspect', './test/fixtures/auditDefinitions.ts', '--bridge', 'dapr')
    expect(run.code).toBe(1)
    expect(run.stdout).toContain('filters tenant acme; needs everyInstance, wildcards')
    expect(run.stderr).toContain(
      'subscription audit.v1.recordUserEvents: it needs the capability "everyInstance"',
    )
    expect(run.stderr).toContain(
      'subscription audit.v1.recordUserEvents: it needs the capability "wildcards"',
    )
  })

  it('fails with exit code 2 when the module exports no definitions', async () => {
    const run = await conduit('inspect', './test/support.ts')
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('no service or event definitions are exported by ./test/support.ts')
  })
})
