import { describe, expect, it } from 'vitest'
import { TimeoutError } from '../errors/errors.js'
import { PendingInvocations } from './PendingInvocations.js'

describe('PendingInvocations', () => {
  it('resolves a waiter once and frees its entry', async () => {
    const pending = new PendingInvocations()
    const waiting = pending.wait('a', 10_000, () => new TimeoutError('late'))
    expect(pending.resolve('a', 42)).toBe(true)
    expect(pending.resolve('a', 43)).toBe(false)
    await expect(waiting).resolves.toBe(42)
    expect(pending.size).toBe(0)
  })

  it('times out with the given error and frees the entry', async () => {
    const pending = new PendingInvocations()
    await expect(pending.wait('a', 5, () => new TimeoutError('late'))).rejects.toBeInstanceOf(TimeoutError)
    expect(pending.size).toBe(0)
    expect(pending.resolve('a', 1)).toBe(false)
  })

  it('rejectAll fails every waiter', async () => {
    const pending = new PendingInvocations()
    const waiters = ['a', 'b'].map((id) => pending.wait(id, 10_000, () => new TimeoutError('late')))
    pending.rejectAll(() => new TimeoutError('stopped'))
    for (const waiter of waiters) await expect(waiter).rejects.toThrow('stopped')
    expect(pending.size).toBe(0)
  })

  it('leaves nothing behind after 1,000,000 invocations, including timed-out ones', {
    timeout: 60_000,
  }, async () => {
    const pending = new PendingInvocations()
    const timedOut: Promise<unknown>[] = []
    for (let i = 0; i < 1_000_000; i++) {
      const id = String(i)
      if (i % 10_000 === 0) {
        timedOut.push(pending.wait(id, 1, () => new TimeoutError('late')).catch((error) => error))
        continue
      }
      const waiter = pending.wait(id, 30_000, () => new TimeoutError('late'))
      pending.resolve(id, i)
      await waiter
    }
    const errors = await Promise.all(timedOut)
    expect(errors).toHaveLength(100)
    expect(errors.every((error) => error instanceof TimeoutError)).toBe(true)
    expect(pending.size).toBe(0)
  })

  it('keeps one sweep timer across calls made one after another, and stops it once none waits', async () => {
    const pending = new PendingInvocations()
    pending.wait('a', 10_000, () => new TimeoutError('late'))
    const timer = pending['sweeper']
    expect(timer).toBeDefined()
    pending.resolve('a', 1)
    pending.wait('b', 10_000, () => new TimeoutError('late'))
    expect(pending['sweeper']).toBe(timer) // not cleared and started again per call
    pending.resolve('b', 2)
    const until = Date.now() + 1_000
    while (pending['sweeper'] !== undefined && Date.now() < until) await new Promise((r) => setTimeout(r, 5))
    expect(pending['sweeper']).toBeUndefined()
  })
})
