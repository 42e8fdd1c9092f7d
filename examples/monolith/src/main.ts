import { startMonolith } from './app.js'
import { listSentMails } from './email/service.js'
import { getUser, registerNewUser } from './user/definition.js'

const monolith = await startMonolith()
const { eventBridge, emailService } = monolith
const log = eventBridge.logger.child({ component: 'main' })

// ─── HTTP gateway ────────────────────────────────────────────────────────────────────────────
// Place for @conduit/http (createGateway / serveGateway): it needs only the definitions in
// ./user/definition.ts and ./email/definition.ts and this eventBridge. Not wired yet.
// ─────────────────────────────────────────────────────────────────────────────────────────────

// The flow: register a demo user, read it back, then wait for the welcome mail the email
// service sends when it sees user.registered.
const { userId } = await eventBridge.invoke(registerNewUser, {
  name: 'Ada Lovelace',
  email: 'ada@example.org',
})
log.info({ userId }, 'demo: registerNewUser answered')

const user = await eventBridge.invoke(getUser, undefined, { parameter: { userId } })
log.info({ user }, 'demo: getUser answered')

const welcomeMail = await waitFor(async () => {
  const mails = await listSentMails(emailService.stores.state)
  return mails.find((mail) => mail.userId === userId)
}, 5_000)
log.info({ mail: welcomeMail }, 'demo: the email service recorded the welcome mail')

log.info('running; press Ctrl+C to stop')

// Nothing else holds the event loop open until the HTTP gateway listens.
const keepAlive = setInterval(() => undefined, 2 ** 30)
let shuttingDown = false
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (shuttingDown) {
      log.warn({ signal }, 'second signal: exiting without waiting')
      process.exit(1)
    }
    shuttingDown = true
    log.info({ signal }, 'stopping')
    clearInterval(keepAlive)
    monolith.stop().then(
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
