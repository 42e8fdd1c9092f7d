import { randomUUID } from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import { startMonolith } from '../src/app.js'
import { getUser, registerNewUser } from '../src/user/definition.js'
import { userStateFromEnv } from '../src/userState.js'

// Configured with Redis or PostgreSQL, the users outlive the process: a second monolith on the
// same store reads the user the first one registered.
describe.each(['redis', 'postgres'] as const)('users kept in %s', (kind) => {
  const env = {
    ...process.env,
    CONDUIT_USER_STORE: kind,
    CONDUIT_USER_NAMESPACE: `example-test-${randomUUID().slice(0, 8)}`,
  }

  afterAll(async () => {
    const store = userStateFromEnv(env)!
    for await (const key of store.keys()) await store.delete(key)
    await store.close()
  })

  it('a user registered by one monolith is read back by the next one', async () => {
    const first = await startMonolith({ userState: userStateFromEnv(env)! })
    const { userId } = await first.eventBridge.invoke(registerNewUser, {
      name: 'Ada',
      email: 'ada@example.org',
    })
    await first.stop()

    const second = await startMonolith({ userState: userStateFromEnv(env)! })
    try {
      const user = await second.eventBridge.invoke(getUser, undefined, { parameter: { userId } })
      expect(user).toMatchObject({ userId, name: 'Ada', email: 'ada@example.org' })
    } finally {
      await second.stop()
    }
  })
})

it('an unknown CONDUIT_USER_STORE is refused with the allowed values', () => {
  expect(() => userStateFromEnv({ CONDUIT_USER_STORE: 'mongo' })).toThrow(
    /memory, redis or postgres, got "mongo"/,
  )
})
