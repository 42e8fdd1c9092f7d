import type { CommandReceiver, DeliveryOutcome } from '@conduit/core/transport'
import { describe, expect, it } from 'vitest'
import { CommandRoutes } from './CommandRoutes.js'

const KEY = 'pricing/1/quote'
const replyBytes = Buffer.from('{"reply":true}')
const reply = { envelope: {} as never, bytes: replyBytes, cloudEventBytes: replyBytes }

function recorder() {
  const answers: { status: number; body: string }[] = []
  const respond = async (status: number, body: Uint8Array | string) => {
    answers.push({ status, body: Buffer.from(body).toString('utf8') })
  }
  return { answers, respond }
}

const answering =
  (outcome: DeliveryOutcome, replies: boolean): CommandReceiver =>
  async (_raw, send) => {
    if (replies && typeof send === 'function') await send(reply)
    return outcome
  }

describe('CommandRoutes', () => {
  it('answers 200 with the bytes the engine replied with', async () => {
    const routes = new CommandRoutes()
    routes.add(KEY, answering({ action: 'ack' }, true))
    const { answers, respond } = recorder()
    await routes.serve(KEY, new Uint8Array(), respond)
    expect(answers).toEqual([{ status: 200, body: '{"reply":true}' }])
  })

  it('answers 404 without a listener, 503 while paused, and 404 again once closed', async () => {
    const routes = new CommandRoutes()
    const { answers, respond } = recorder()
    await routes.serve(KEY, new Uint8Array(), respond)
    const listener = routes.add(KEY, answering({ action: 'ack' }, true))
    await listener.pause()
    await routes.serve(KEY, new Uint8Array(), respond)
    await listener.close()
    await routes.serve(KEY, new Uint8Array(), respond)
    expect(answers.map((answer) => answer.status)).toEqual([404, 503, 404])
    expect(JSON.parse(answers[1]!.body)).toMatchObject({ errorCode: 'CONDUIT_STOPPING' })
  })

  it('uses the outcome when the engine did not reply: 400 for a dead-lettered command, 500 for a lost reply', async () => {
    const record = { reason: 'not JSON', message: new Uint8Array(), stub: false }
    const routes = new CommandRoutes()
    routes.add(KEY, answering({ action: 'dead-letter', reason: 'not JSON', record }, false))
    routes.add('other/1/x', answering({ action: 'ack' }, false))
    const { answers, respond } = recorder()
    await routes.serve(KEY, new Uint8Array(), respond)
    await routes.serve('other/1/x', new Uint8Array(), respond)
    expect(answers.map((answer) => answer.status)).toEqual([400, 500])
    expect(answers[0]!.body).not.toContain('not JSON') // the reason stays in the app log
  })

  it('refuses a second listener for one key (the engine opens one per address)', () => {
    const routes = new CommandRoutes()
    routes.add(KEY, answering({ action: 'ack' }, true))
    expect(() => routes.add(KEY, answering({ action: 'ack' }, true))).toThrow(/already has a listener/)
  })
})
