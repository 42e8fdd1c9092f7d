import { serveMonolithOverHttp, startMonolith } from './app.js'
import { listSentMails } from './email/service.js'
import { getUser, registerNewUser } from './user/definition.js'
import { userStateFromEnv } from './userState.js'

// CONDUIT_USER_STORE=redis|postgres keeps the users in Redis or PostgreSQL (see userState.ts)
const userState = userStateFromEnv()
const monolith = await startMonolith(userState ? { userState } : {})
const { eventBridge, emailService } = monolith
const log = eventBridge.logger.child({ component: 'main' })

// The HTTP gateway: the commands that opted into HTTP, with OpenAPI and a docs page.
const gateway = await serveMonolithOverHttp(monolith, Number(process.env.PORT ?? 3000))

// The flow: register a demo user, read it back, then wait for the welcome mail the email
// service sends when it sees user.registered.
const { userId } = await eventBridge.invoke(registerNewUser, {
  name: 'Ada Lovelace',
  email: 'ada@example.org',
})
log.info({ userId }, 'demo: registerNewUser answered')

const user = await eventBridge.invoke(getUser, undefined, { parameter: { userId } })
// ids only: names and email addresses are personal data and stay out of the logs
log.info({ userId: user.userId }, 'demo: getUser answered')

const welcomeMail = await waitFor(async () => {
  const mails = await listSentMails(emailService.stores.state)
  return mails.find((mail) => mail.userId === userId)
}, 5_000)
log.info({ mailId: welcomeMail.mailId, userId }, 'demo: the email service recorded the welcome mail')

log.info(
  { docs: `${gateway.url}/docs`, openapi: `${gateway.url}/openapi.json` },
  `running; try: curl -X POST ${gateway.url}/api/v1/user/users -H 'content-type: application/json' -d '{"name":"Grace","email":"grace@example.org"}'  (Ctrl+C stops)`,
)
let shuttingDown = false
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (shuttingDown) {
      log.warn({ signal }, 'second signal: exiting without waiting')
      process.exit(1)
    }
    shuttingDown = true
    log.info({ signal }, 'stopping')
    gateway
      .close()
      .then(() => monolith.stop())
      .then(
        () => log.info('stopped'),
        (error: unknown) => {
          log.error({ err: error }, 'stop failed')
          process.exitCode = 1
        },
      )
  })
}

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const giveUpAt = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > giveUpAt) throw new Error(`gave up waiting after ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
