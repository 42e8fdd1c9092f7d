import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { defineService } from '../definitions/service.js'
import { MemoryBridge } from '../memory/MemoryBridge.js'
import { createService, handleCommand } from '../service/implementation.js'
import { eventEnvelope, idSequence, newId } from './envelopes.js'

describe('idSequence', () => {
  it('reads back the counter of every id this process made', () => {
    const first = idSequence(newId())
    expect(first).toBeGreaterThan(0)
    for (let step = 1; step <= 5000; step++) expect(idSequence(newId())).toBe(first + step)
  })

  it('is -1 for ids from elsewhere, and for a counter part that is not lower-case base 36', () => {
    const prefix = newId().slice(0, 12) // 12 base64url characters, which may include '-'
    for (const foreign of [
      '',
      'abc',
      'x'.repeat(20),
      `${prefix}-`,
      `${prefix}-A1`,
      `${prefix}-1_`,
      `${prefix}-1:`,
    ])
      expect(idSequence(foreign), foreign).toBe(-1)
    expect(idSequence(`${prefix}-zz`)).toBe(35 * 36 + 35)
  })
})

describe('a message that starts a conversation', () => {
  it('an event emitted without a correlation id carries its own id as one; a given one is kept', () => {
    const fresh = eventEnvelope('order.placed', {}, {})
    expect(fresh.correlationId).toBe(fresh.id)
    const continued = eventEnvelope('order.placed', {}, { correlationId: 'http-request-7' })
    expect(continued.correlationId).toBe('http-request-7')
    expect(continued.id).not.toBe('http-request-7')
  })
})

describe('a call that starts a conversation', () => {
  it('carries its own id as correlation id; a given one is kept', async () => {
    const probeV1 = defineService({ name: 'probe', version: '1' })
    const seen = probeV1.command('seen', {
      input: z.object({}),
      output: z.object({ id: z.string(), correlationId: z.string() }),
    })
    const bridge = new MemoryBridge()
    await bridge.start()
    const instance = await createService(probeV1, {
      commands: [
        handleCommand(seen, async (_input, ctx) => ({
          id: ctx.message.id,
          correlationId: ctx.message.correlationId,
        })),
      ],
    }).getInstance(bridge)
    await instance.start()
    try {
      const fresh = await bridge.invoke(seen, {})
      expect(fresh.correlationId).toBe(fresh.id)
      const continued = await bridge.invoke(seen, {}, { correlationId: 'http-request-8' })
      expect(continued.correlationId).toBe('http-request-8')
      expect(continued.id).not.toBe('http-request-8')
    } finally {
      await instance.stop()
      await bridge.stop()
    }
  })
})
