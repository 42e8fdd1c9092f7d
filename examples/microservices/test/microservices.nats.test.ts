import { registerNewUser } from '@conduit/example-monolith/user/definition'
import { NatsBridge } from '@conduit/nats'
import { connect } from 'nats'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mailsByUser, ServiceProcess } from '../src/processes.js'

// The example split into processes over NATS: two user-service and two email-service
// processes, each a child process running the monolith's unchanged handlers.
const prefix = `msnats${Date.now().toString(36)}`
const env = { CONDUIT_BRIDGE: 'nats', CONDUIT_PREFIX: prefix, NATS_ACK_WAIT_MS: '2000' }
const POLL = { timeout: 60_000, interval: 100 }

describe('microservices over NATS', () => {
  const users = [
    new ServiceProcess('user-1', 'user-process', env),
    new ServiceProcess('user-2', 'user-process', env),
  ]
  const emails = [
    new ServiceProcess('email-1', 'email-process', env),
    new ServiceProcess('email-2', 'email-process', env),
  ]
  const gateway = new ServiceProcess('gateway', 'gateway-process', { ...env, PORT: '0' })
  const client = new NatsBridge({ prefix })

  beforeAll(async () => {
    await Promise.all([...users, ...emails, gateway].map((child) => child.ready))
    await client.start()
  })

  afterAll(async () => {
    await client.stop()
    await Promise.all([...users, ...emails, gateway].map((child) => child.stop()))
    const nc = await connect({ servers: '127.0.0.1:4222' })
    const jsm = await nc.jetstreamManager()
    for (const stream of [`${prefix}_events`, `${prefix}_dead_letters`])
      await jsm.streams.delete(stream).catch(() => false)
    await nc.close()
  })

  const register = (from: number, count: number) =>
    Promise.all(
      Array.from({ length: count }, (_, i) =>
        client.invoke(registerNewUser, { name: `user ${from + i}`, email: `user${from + i}@example.org` }),
      ),
    ).then((results) => results.map((result) => result.userId))

  it('100 registered users get exactly 100 welcome mails, the work shared by both instances of each service', async () => {
    const userIds = await register(0, 100)
    expect(new Set(userIds).size).toBe(100)
    await expect
      .poll(() => [...mailsByUser(emails).values()].reduce((a, b) => a + b, 0), POLL)
      .toBeGreaterThanOrEqual(100)
    const mails = mailsByUser(emails)
    expect([...mails.keys()].sort()).toEqual([...userIds].sort())
    expect([...mails.values()].every((count) => count === 1)).toBe(true)
    for (const child of emails) expect(child.count('welcome mail sent'), child.label).toBeGreaterThan(0)
    for (const child of users) expect(child.count('user registered'), child.label).toBeGreaterThan(0)
  })

  it('killing one email instance mid-run (kill -9) loses no mail with durable delivery', async () => {
    const before = mailsByUser(emails)
    const registering = register(1000, 100)
    // kill as soon as the victim has sent a few of this batch's mails
    const victim = emails[0]!
    const victimBefore = victim.count('welcome mail sent')
    await expect.poll(() => victim.count('welcome mail sent') - victimBefore, POLL).toBeGreaterThanOrEqual(3)
    await victim.stop('SIGKILL')
    const userIds = await registering
    await expect.poll(() => userIds.filter((userId) => !mailsByUser(emails).has(userId)).length, POLL).toBe(0)
    const mails = mailsByUser(emails)
    const duplicates = userIds.filter((userId) => (mails.get(userId) ?? 0) > 1).length
    console.info(
      `[microservices/nats] kill -9 run: 100 users, 0 lost, ${duplicates} duplicate mail(s) (at-least-once)`,
    )
    expect(userIds.every((userId) => !before.has(userId))).toBe(true)
  })

  it('the gateway, its own process, serves the user commands over HTTP in front of the remote services', async () => {
    const url = String(gateway.lines.find((line) => line.msg === 'gateway listening')?.url)
    const created = await fetch(`${url}/api/v1/user/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Via HTTP', email: 'http@example.org' }),
    })
    expect(created.status).toBe(201)
    const { userId } = (await created.json()) as { userId: string }
    await expect.poll(() => mailsByUser(emails).has(userId), POLL).toBe(true)
    const docs = await fetch(`${url}/docs`)
    expect(docs.status).toBe(200)
  })
})
