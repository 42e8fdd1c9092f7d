import type { ConduitError } from '../errors/errors.js'

interface Waiter {
  resolve(value: unknown): void
  reject(error: unknown): void
  timer: NodeJS.Timeout
}

/**
 * Invocations awaiting a response, by correlation id. Each entry owns its deadline timer and
 * is removed exactly once: on response, on timeout, or when the bridge stops.
 */
export class PendingInvocations {
  private readonly waiters = new Map<string, Waiter>()

  get size(): number {
    return this.waiters.size
  }

  has(correlationId: string): boolean {
    return this.waiters.has(correlationId)
  }

  /** Registers a waiter; `onTimeout` builds the error when `timeoutMs` passes first. */
  wait<T>(correlationId: string, timeoutMs: number, onTimeout: () => ConduitError): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.waiters.delete(correlationId)) reject(onTimeout())
      }, timeoutMs)
      this.waiters.set(correlationId, { resolve: resolve as (value: unknown) => void, reject, timer })
    })
  }

  resolve(correlationId: string, value: unknown): boolean {
    const waiter = this.take(correlationId)
    waiter?.resolve(value)
    return waiter !== undefined
  }

  reject(correlationId: string, error: unknown): boolean {
    const waiter = this.take(correlationId)
    waiter?.reject(error)
    return waiter !== undefined
  }

  rejectAll(makeError: () => ConduitError): void {
    for (const correlationId of [...this.waiters.keys()]) this.reject(correlationId, makeError())
  }

  private take(correlationId: string): Waiter | undefined {
    const waiter = this.waiters.get(correlationId)
    if (waiter === undefined) return undefined
    this.waiters.delete(correlationId)
    clearTimeout(waiter.timer)
    return waiter
  }
}
