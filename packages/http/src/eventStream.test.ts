import type { Envelope } from '@conduit/core'
import type { SSEStreamingApi } from 'hono/streaming'
import { describe, expect, it } from 'vitest'
import { clientEventFilter, EventStreamClient } from './eventStream.js'

const event = (eventName: string, tenantId?: string): Envelope => ({
  id: `id-${eventName}`,
  type: 'event',
  specVersion: '1',
  time: 0,
  correlationId: 'c',
  sender: { instanceId: 'i' },
  eventName,
  contentType: 'application/json',
  payload: { eventName },
  ...(tenantId ? { tenantId } : {}),
})

function fakeStream(writeSSE: () => Promise<void>) {
  const written: unknown[] = []
  const stream = {
    onAbort: () => undefined,
    writeSSE: async (message: unknown) => {
      written.push(message)
      await writeSSE()
    },
    write: async () => stream,
  }
  return { stream: stream as unknown as SSEStreamingApi, written }
}

describe('EventStreamClient', () => {
  it('queues events offered before the stream opens and writes them in order', async () => {
    const client = new EventStreamClient(() => true, 10)
    client.offer(event('a.one'))
    client.offer(event('a.two'))
    const { stream, written } = fakeStream(async () => undefined)
    client.attachStream(stream)
    await expect.poll(() => written.length).toBe(2)
    expect(written).toEqual([
      { event: 'a.one', id: 'id-a.one', data: '{"eventName":"a.one"}' },
      { event: 'a.two', id: 'id-a.two', data: '{"eventName":"a.two"}' },
    ])
  })

  it('disconnects a client that falls more than maxQueued events behind', async () => {
    const client = new EventStreamClient(() => true, 2)
    const { stream } = fakeStream(() => new Promise<void>(() => undefined)) // never drains
    client.attachStream(stream)
    for (const name of ['a.1', 'a.2', 'a.3']) client.offer(event(name))
    await expect(client.ended).resolves.toBeUndefined()
  })
})

describe('clientEventFilter', () => {
  it('applies the client pattern and, by default, the tenant of the principal', () => {
    const acme = clientEventFilter('user.*', { principalId: 'p', tenantId: 'acme' }, undefined)
    expect(acme(event('user.registered', 'acme'))).toBe(true)
    expect(acme(event('user.registered', 'globex'))).toBe(false)
    expect(acme(event('user.registered'))).toBe(false)
    expect(acme(event('order.placed', 'acme'))).toBe(false)
    const noTenant = clientEventFilter(undefined, { principalId: 'p' }, undefined)
    expect(noTenant(event('anything.at.all', 'globex'))).toBe(true)
    const custom = clientEventFilter(undefined, undefined, (candidate) => candidate.eventName === 'only.this')
    expect(custom(event('only.this'))).toBe(true)
    expect(custom(event('not.this'))).toBe(false)
  })
})
