import {
  DefaultEventBridge,
  type EventBridge,
  HandledError,
  isConduitError,
  type StateStore,
  ValidationError,
} from '@conduit/core'
import { NatsBridge } from '@conduit/nats'
import { NatsAdmin, uniquePrefix } from '@conduit/nats/testing'
import { postgresStateStore } from '@conduit/postgres'
import { redisStateStore } from '@conduit/redis'
import { emailV1Service, listSentMails } from './email.js'
import { getUser, registerNewUser, userV1Service } from './user.js'

// `node out/main.js memory|nats|redis|postgres [users]`: DESIGN.md's running example on the
// memory bridge, or over NATS with each service on a bridge (connection) of its own, as two
// processes would be; redis and postgres run on the memory bridge with the user service's state
// in Redis or PostgreSQL (the installed @conduit/redis and @conduit/postgres).
// Registers users, waits for their welcome mails, reads one back, provokes a 404 and a 400, and
// prints one JSON line (PACKTEST_RESULT) for the pack test to check.

const mode = process.argv[2] ?? 'memory'
const users = Number(process.argv[3] ?? 20)
const servers = process.env.NATS_URL ?? 'nats://127.0.0.1:4222'
const started = performance.now()

let userBridge: EventBridge
let emailBridge: EventBridge
let cleanup = async (): Promise<void> => {}
let userState: StateStore | undefined
if (mode === 'memory') {
  userBridge = emailBridge = new DefaultEventBridge()
} else if (mode === 'redis' || mode === 'postgres') {
  userBridge = emailBridge = new DefaultEventBridge()
  const namespace = `packtest-${process.pid}-${Date.now()}`
  const store =
    mode === 'redis'
      ? redisStateStore({ namespace, url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' })
      : postgresStateStore({
          namespace,
          connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
        })
  userState = store
  cleanup = async () => {
    for await (const key of store.keys()) await store.delete(key)
    await store.close()
  }
} else if (mode === 'nats') {
  const prefix = uniquePrefix('packtest')
  const options = { servers, prefix, durable: { storage: 'memory' as const } }
  userBridge = new NatsBridge(options)
  emailBridge = new NatsBridge(options)
  cleanup = async () => {
    const admin = await NatsAdmin.connect(servers)
    await admin.deleteNamespace(prefix)
    await admin.close()
  }
} else {
  throw new Error(`unknown mode ${mode}: memory, nats, redis or postgres`)
}

function describe(error: unknown) {
  return {
    name: error instanceof Error ? error.name : typeof error,
    conduitError: isConduitError(error),
    handledError: error instanceof HandledError,
    validationError: error instanceof ValidationError,
    status: isConduitError(error) ? error.status : undefined,
    code: isConduitError(error) ? error.code : undefined,
  }
}

await userBridge.start()
if (emailBridge !== userBridge) await emailBridge.start()
const userService = await userV1Service.getInstance(
  userBridge,
  userState ? { stores: { state: userState } } : {},
)
await userService.start()
const emailService = await emailV1Service.getInstance(emailBridge)
await emailService.start()

try {
  const registered = await Promise.all(
    Array.from({ length: users }, (_, index) =>
      userBridge.invoke(registerNewUser, { name: `User ${index}`, email: `user${index}@example.org` }),
    ),
  )
  const deadline = Date.now() + 15_000
  let mails = await listSentMails(emailService.stores.state)
  while (mails.length < users && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20))
    mails = await listSentMails(emailService.stores.state)
  }
  // Let a duplicate delivery, if any, show up before counting.
  await new Promise((resolve) => setTimeout(resolve, 200))
  mails = await listSentMails(emailService.stores.state)

  const first = registered[0]
  const readBack = first ? await userBridge.invoke(getUser, undefined, { parameter: first }) : undefined
  const notFound = await userBridge
    .invoke(getUser, undefined, { parameter: { userId: 'nobody' } })
    .then(() => undefined, describe)
  const invalid = await userBridge
    .invoke(registerNewUser, { name: '', email: 'not an email' })
    .then(() => undefined, describe)

  const result = {
    mode,
    bridge: userBridge.name,
    userStore: userService.stores.state.name,
    node: process.version,
    registered: registered.length,
    mails: mails.length,
    mailedUsers: new Set(mails.map((mail) => mail.userId)).size,
    readBack: readBack?.name === 'User 0' && readBack.email === 'user0@example.org',
    notFound,
    invalid,
    ms: Math.round(performance.now() - started),
  }
  process.stdout.write(`PACKTEST_RESULT ${JSON.stringify(result)}\n`)
} finally {
  await userService.stop()
  await emailService.stop()
  await userBridge.stop()
  if (emailBridge !== userBridge) await emailBridge.stop()
  await cleanup()
}
