import { HandledError, isConduitError, ValidationError } from '@conduit/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type Monolith, serveMonolithOverHttp, startMonolith } from '../src/app.js'
import type { SentMail } from '../src/email/definition.js'
import { listSentMails } from '../src/email/service.js'
import { getUser, registerNewUser } from '../src/user/definition.js'

describe('the monolith example (user v1 + email v1 on DefaultEventBridge)', () => {
  let monolith: Monolith

  beforeEach(async () => {
    monolith = await startMonolith()
  })

  afterEach(async () => {
    await monolith.stop()
  })

  it('registers 100 users and sends exactly one welcome mail to each', async () => {
    const { eventBridge, emailService } = monolith
    const registered = await Promise.all(
      Array.from({ length: 100 }, async (_, index) => {
        const email = `user${index}@example.org`
        const { userId } = await eventBridge.invoke(registerNewUser, { name: `User ${index}`, email })
        return { userId, email }
      }),
    )
    expect(new Set(registered.map((user) => user.userId)).size).toBe(100)

    await expect.poll(async () => (await listSentMails(emailService.stores.state)).length).toBe(100)
    // Give any duplicate delivery time to show up before counting for good.
    await new Promise((resolve) => setTimeout(resolve, 100))
    const mails = await listSentMails(emailService.stores.state)
    expect(mails).toHaveLength(100)

    const mailsByUser = new Map<string, SentMail[]>()
    for (const mail of mails) mailsByUser.set(mail.userId, [...(mailsByUser.get(mail.userId) ?? []), mail])
    expect(mailsByUser.size).toBe(100)
    for (const { userId, email } of registered) {
      const forUser = mailsByUser.get(userId)
      expect(forUser, `mails for ${userId}`).toHaveLength(1)
      expect(forUser?.[0]).toMatchObject({ to: email, from: 'welcome@conduit.example' })
    }
  })

  it('reads a registered user back', async () => {
    const { eventBridge } = monolith
    const { userId } = await eventBridge.invoke(registerNewUser, { name: 'Ada', email: 'ada@example.org' })
    const user = await eventBridge.invoke(getUser, undefined, { parameter: { userId } })
    expect(user).toMatchObject({ userId, name: 'Ada', email: 'ada@example.org' })
    expect(Date.parse(user.registeredAt)).not.toBeNaN()
  })

  it('answers getUser for an unknown id with a 404 HandledError', async () => {
    const error = await monolith.eventBridge
      .invoke(getUser, undefined, { parameter: { userId: 'nobody' } })
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(HandledError)
    expect(error).toMatchObject({
      status: 404,
      code: 'NOT_FOUND',
      message: 'User nobody not found',
      data: { userId: 'nobody' },
    })
  })

  it('rejects bad input with a 400 that lists the zod issues, and sends no mail', async () => {
    const { eventBridge, emailService } = monolith
    const error = await eventBridge
      .invoke(registerNewUser, { name: '', email: 'not-an-email' })
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ValidationError)
    expect(isConduitError(error) && error.status).toBe(400)
    const issues = (error as ValidationError).issues
    expect(issues.map((issue) => issue.path)).toEqual(expect.arrayContaining([['name'], ['email']]))
    expect((error as ValidationError).data).toMatchObject({ target: 'input' })

    const missingParameter = await eventBridge.invoke(getUser, undefined).catch((caught: unknown) => caught)
    expect(missingParameter).toMatchObject({ status: 400, data: { target: 'parameter' } })

    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(await listSentMails(emailService.stores.state)).toEqual([])
  })
})

describe('the monolith over HTTP', () => {
  it('registers a user with POST, reads it back with GET and serves its OpenAPI document', async () => {
    const monolith = await startMonolith()
    const gateway = await serveMonolithOverHttp(monolith, 0)
    try {
      const created = await fetch(`${gateway.url}/api/v1/user/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Grace', email: 'grace@example.org' }),
      })
      expect(created.status).toBe(201)
      const { userId } = (await created.json()) as { userId: string }
      const read = await fetch(`${gateway.url}/api/v1/user/users/${userId}`)
      expect(read.status).toBe(200)
      expect(await read.json()).toMatchObject({ userId, name: 'Grace' })
      const missing = await fetch(`${gateway.url}/api/v1/user/users/nobody`)
      expect(missing.status).toBe(404)
      const openapi = (await (await fetch(`${gateway.url}/openapi.json`)).json()) as {
        openapi: string
        paths: object
      }
      expect(openapi.openapi).toMatch(/^3\.1/)
      expect(Object.keys(openapi.paths)).toContain('/api/v1/user/users')
    } finally {
      await gateway.close()
      await monolith.stop()
    }
  })
})
