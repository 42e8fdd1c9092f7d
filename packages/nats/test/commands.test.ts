import { DefinitionError, type Envelope, NoHandlerError } from '@conduit/core'
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest'
import { NatsSubjects } from '../src/index.js'
import { connect } from '../src/testing.js'
import { placeOrder, shopService, Testbed } from './fixtures.js'

describe('NATS commands', { timeout: 20_000 }, () => {
  let bed: Testbed
  beforeEach(() => {
    bed = new Testbed()
  })
  afterEach(async () => {
    await bed.close()
  })

  it('fails at once with NoHandlerError when nothing serves the command (no responders)', async () => {
    const client = await bed.bridge()
    const started = performance.now()
    const error = await client.invoke(placeOrder, { id: 1 }, { timeout: 30_000 }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(NoHandlerError)
    expect((error as NoHandlerError).message).toContain('no responders')
    expect(performance.now() - started).toBeLessThan(1_000)
    expect(client.pendingInvocations).toBe(0)
  })

  it('tells "no responders" apart per call while other calls on the same inbox succeed', async () => {
    await bed.run(shopService('A'), await bed.bridge())
    const client = await bed.bridge()
    const ghost = { service: 'ghost', version: '1', command: 'nobody' }
    const outcomes = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) =>
        i % 2 === 0
          ? client.invoke(placeOrder, { id: i })
          : client.invokeAddress(ghost, {}, { timeout: 30_000 }),
      ),
    )
    outcomes.forEach((outcome, i) => {
      if (i % 2 === 0) expect(outcome).toMatchObject({ status: 'fulfilled', value: { id: i, by: 'A' } })
      else expect(outcome).toMatchObject({ status: 'rejected', reason: { code: 'NO_HANDLER' } })
    })
  })

  it('refuses names NATS cannot carry with a clear error instead of publishing', async () => {
    const client = await bed.bridge()
    const error = await client
      .invokeAddress({ service: 'shop', version: '1', command: 'place order' }, {})
      .catch((e: unknown) => e)
    expect(error).toMatchObject({ status: 400, code: 'INVALID_SUBJECT_NAME' })
    expect((error as Error).message).toContain('"place order"')
    await expect(client.emit('order.*', {})).rejects.toBeInstanceOf(DefinitionError)
  })

  it('speaks plain NATS request/reply: a nats.js client with an inbox under <prefix>.reply can invoke', async () => {
    await bed.run(shopService('A'), await bed.bridge())
    const nc = await connect({ servers: bed.servers, inboxPrefix: `${bed.prefix}.reply` })
    onTestFinished(() => nc.close())
    const command = rawCommand(7)
    const subject = new NatsSubjects(bed.prefix).command(command.receiver!)
    const reply = await nc.request(subject, JSON.stringify(command), { timeout: 5_000 })
    const response = reply.json<Envelope>()
    expect(response).toMatchObject({
      type: 'response',
      correlationId: 'raw-corr-7',
      payload: { id: 7, by: 'A' },
    })
  })

  it('runs a command without a reply subject, and refuses one whose reply subject is not an inbox of its prefix', async () => {
    await bed.run(shopService('A'), await bed.bridge())
    const { nc } = await bed.admin()
    const subjects = new NatsSubjects(bed.prefix)
    const emitted: number[] = []
    nc.subscribe(subjects.event('order.placed'), {
      callback: (_error, msg) => void emitted.push((msg.json<Envelope>().payload as { id: number }).id),
    })
    const stolen: string[] = []
    nc.subscribe('elsewhere.>', { callback: (_error, msg) => void stolen.push(msg.subject) })
    nc.subscribe(`${bed.prefix}.cmd.>`, { callback: (_error, msg) => void stolen.push(msg.subject) })
    await nc.flush()
    const publish = (id: number, reply?: string) => {
      const command = rawCommand(id)
      nc.publish(subjects.command(command.receiver!), JSON.stringify(command), reply ? { reply } : undefined)
    }
    publish(1, 'elsewhere.inbox.x')
    publish(2, `${bed.prefix}.cmd.shop.v1.placeOrder`)
    publish(3, `${subjects.replyInbox('someone')}.*`)
    publish(4) // fire and forget: runs, its answer goes nowhere
    await expect.poll(() => emitted).toEqual([4])
    expect(stolen.filter((subject) => !subject.startsWith(`${bed.prefix}.cmd.shop`))).toEqual([])
    expect(stolen).toHaveLength(4) // the four commands themselves, no reply among them
  })
})

/** A command as any NATS client can publish it. */
function rawCommand(id: number): Envelope {
  return {
    id: `raw-${id}`,
    type: 'command',
    specVersion: '1',
    time: Date.now(),
    correlationId: `raw-corr-${id}`,
    sender: { instanceId: 'raw-client' },
    receiver: { service: 'shop', version: '1', command: 'placeOrder' },
    deadline: Date.now() + 5_000,
    contentType: 'application/json',
    payload: { id },
  }
}
