import { AmqpBridge } from '@conduit/amqp'
import { startMonolith } from '@conduit/example-monolith'
import { listSentMails } from '@conduit/example-monolith/email/service'
import { afterAll, describe, expect, it } from 'vitest'
import { mailsByUser, type ProcessScript, ServiceProcess } from '../src/processes.js'
import { deleteAmqpPrefix, registerUsers } from './support.js'

// The scenario every PURISTA user knows: the same services (a) in one process in memory,
// (b) on RabbitMQ with the process run twice, (c) split into one process per service, two
// instances each. Only the bridge line changes (CONDUIT_BRIDGE here); the handlers never do.
const POLL = { timeout: 60_000, interval: 100 }
const prefixes: string[] = []

async function runOnAmqp(layout: { label: string; script: ProcessScript }[]) {
  const prefix = `seed${Date.now().toString(36)}${prefixes.length}`
  prefixes.push(prefix)
  const env = { CONDUIT_BRIDGE: 'amqp', CONDUIT_PREFIX: prefix }
  const processes = layout.map(({ label, script }) => new ServiceProcess(label, script, env))
  const client = new AmqpBridge({ prefix })
  try {
    await Promise.all(processes.map((child) => child.ready))
    await client.start()
    const userIds = await registerUsers(client, 0, 100)
    await expect
      .poll(() => [...mailsByUser(processes).values()].reduce((a, b) => a + b, 0), POLL)
      .toBeGreaterThanOrEqual(100)
    const mails = mailsByUser(processes)
    expect([...mails.keys()].sort()).toEqual([...userIds].sort())
    expect([...mails.values()].every((count) => count === 1)).toBe(true)
    return processes
  } finally {
    await client.stop()
    await Promise.all(processes.map((child) => child.stop()))
  }
}

describe('seed scenario: from monolith to microservices by one line', () => {
  afterAll(async () => {
    for (const prefix of prefixes) await deleteAmqpPrefix(prefix)
  })

  it('(a) one process on the in-memory bridge: 100 users, exactly 100 welcome mails', async () => {
    const monolith = await startMonolith()
    try {
      const userIds = await registerUsers(monolith.eventBridge, 0, 100)
      await expect
        .poll(async () => (await listSentMails(monolith.emailService.stores.state)).length, POLL)
        .toBe(100)
      const mails = await listSentMails(monolith.emailService.stores.state)
      expect(mails.map((mail) => mail.userId).sort()).toEqual([...userIds].sort())
    } finally {
      await monolith.stop()
    }
  })

  it('(b) the same process on AMQP, run twice: 100 mails, both processes share the work', async () => {
    const processes = await runOnAmqp([
      { label: 'app-1', script: 'all-in-one' },
      { label: 'app-2', script: 'all-in-one' },
    ])
    for (const child of processes) {
      expect(child.count('user registered'), child.label).toBeGreaterThan(0)
      expect(child.count('welcome mail sent'), child.label).toBeGreaterThan(0)
    }
  })

  it('(c) one process per service, two instances each: 100 mails, every instance does part of the work', async () => {
    const processes = await runOnAmqp([
      { label: 'user-1', script: 'user-process' },
      { label: 'user-2', script: 'user-process' },
      { label: 'email-1', script: 'email-process' },
      { label: 'email-2', script: 'email-process' },
    ])
    const [user1, user2, email1, email2] = processes
    for (const child of [user1!, user2!])
      expect(child.count('user registered'), child.label).toBeGreaterThan(0)
    for (const child of [email1!, email2!])
      expect(child.count('welcome mail sent'), child.label).toBeGreaterThan(0)
  })
})
