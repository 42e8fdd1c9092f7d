import type { ConduitError } from '../errors/errors.js'

interface Waiter {
  resolve(value: unknown): void
  reject(error: unknown): void
  onTimeout: () => ConduitError
  deadline: number
  slot: number
}

/** Deadlines are grouped in slots this long; a call times out at most this much late. */
const SLOT_MS = 10

/**
 * Invocations awaiting a response, by reply key. Each entry is removed exactly once: on
 * response, on timeout, or when the bridge stops. Deadlines live in 10 ms slots swept by one
 * timer, instead of a timer per call: a timer costs more than the rest of an in-memory call.
 */
export class PendingInvocations {
  private readonly waiters = new Map<string, Waiter>()
  private readonly slots = new Map<number, Set<string>>()
  private sweeper: NodeJS.Timeout | undefined
  private sweptUpTo = 0

  get size(): number {
    return this.waiters.size
  }

  has(key: string): boolean {
    return this.waiters.has(key)
  }

  /** Registers a waiter; `onTimeout` builds the error when `timeoutMs` passes first. */
  wait<T>(key: string, timeoutMs: number, onTimeout: () => ConduitError): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const deadline = Date.now() + timeoutMs
      const slot = Math.ceil(deadline / SLOT_MS)
      let keys = this.slots.get(slot)
      if (!keys) {
        keys = new Set()
        this.slots.set(slot, keys)
      }
      keys.add(key)
      this.waiters.set(key, {
        resolve: resolve as (value: unknown) => void,
        reject,
        onTimeout,
        deadline,
        slot,
      })
      if (this.sweeper === undefined) this.startSweeping()
    })
  }

  /** A response that arrives at or after the deadline is a timeout, even before the sweep sees it. */
  resolve(key: string, value: unknown): boolean {
    const waiter = this.take(key)
    if (waiter === undefined) return false
    if (Date.now() >= waiter.deadline) waiter.reject(waiter.onTimeout())
    else waiter.resolve(value)
    return true
  }

  reject(key: string, error: unknown): boolean {
    const waiter = this.take(key)
    waiter?.reject(error)
    return waiter !== undefined
  }

  rejectAll(makeError: () => ConduitError): void {
    for (const key of [...this.waiters.keys()]) this.reject(key, makeError())
  }

  private take(key: string): Waiter | undefined {
    const waiter = this.waiters.get(key)
    if (waiter === undefined) return undefined
    this.waiters.delete(key)
    const keys = this.slots.get(waiter.slot)
    keys?.delete(key)
    if (keys?.size === 0) this.slots.delete(waiter.slot)
    if (this.waiters.size === 0) this.stopSweeping()
    return waiter
  }

  private startSweeping(): void {
    this.sweptUpTo = Math.floor(Date.now() / SLOT_MS)
    this.sweeper = setInterval(() => this.sweep(), SLOT_MS)
  }

  private stopSweeping(): void {
    clearInterval(this.sweeper)
    this.sweeper = undefined
  }

  /** Times out every waiter whose slot has passed. */
  private sweep(): void {
    const now = Math.floor(Date.now() / SLOT_MS)
    for (let slot = this.sweptUpTo + 1; slot <= now; slot++) {
      const keys = this.slots.get(slot)
      if (!keys) continue
      for (const key of [...keys]) {
        const waiter = this.take(key)
        waiter?.reject(waiter.onTimeout())
      }
    }
    this.sweptUpTo = now
  }
}
