import { DefinitionError, type Envelope, NoHandlerError } from '@conduit/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { NatsSubjects } from '../src/index.js'
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
    expect((error as NoHandlerError).message).toContain('shop.v1.placeOrder')
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

  it('speaks plain NATS request/reply: a raw nats.js client can invoke a command', async () => {
    await bed.run(shopService('A'), await bed.bridge())
    const { nc } = await bed.admin()
    const command: Envelope = {
      id: 'raw-1',
      type: 'command',
      specVersion: '1',
      time: Date.now(),
      correlationId: 'raw-corr-1',
      sender: { instanceId: 'raw-client' },
      receiver: { service: 'shop', version: '1', command: 'placeOrder' },
      deadline: Date.now() + 5_000,
      contentType: 'application/json',
      payload: { id: 7 },
    }
    const subject = new NatsSubjects(bed.prefix).command(command.receiver!)
    const reply = await nc.request(subject, JSON.stringify(command), { timeout: 5_000 })
    const response = reply.json<Envelope>()
    expect(response).toMatchObject({
      type: 'response',
      correlationId: 'raw-corr-1',
      payload: { id: 7, by: 'A' },
    })
  })
})
