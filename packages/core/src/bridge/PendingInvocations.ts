import type { ConduitError } from '../errors/errors.js'
import { idSequence } from './envelopes.js'

interface Waiter {
  readonly key: string
  resolve(value: unknown): void
  reject(error: unknown): void
  readonly onTimeout: () => ConduitError
  readonly deadline: number
  /** position in `live` */
  index: number
}

const SLOT_COUNT = 1 << 16
const SLOT_MASK = SLOT_COUNT - 1
/** the sweep runs this often; a call times out at most this much late */
const SWEEP_MS = 10

/**
 * Invocations awaiting a response, by reply key. Keys this process made (newId) are found in an
 * array slot indexed by their counter, others in a Map; every live waiter also sits in a dense
 * array (swap-remove) that one timer sweeps for passed deadlines. No hashing of fresh keys and
 * no timer per call on the hot path.
 */
export class PendingInvocations {
  private readonly slots: (Waiter | undefined)[] = new Array<Waiter | undefined>(SLOT_COUNT).fill(undefined)
  private readonly others = new Map<string, Waiter>()
  private readonly live: Waiter[] = []
  private sweeper: NodeJS.Timeout | undefined

  get size(): number {
    return this.live.length
  }

  has(key: string): boolean {
    return this.find(key) !== undefined
  }

  /** `deadline` (epoch ms) defaults to now + timeoutMs; pass the envelope's own so both sides agree to the ms. */
  wait<T>(
    key: string,
    timeoutMs: number,
    onTimeout: () => ConduitError,
    deadline = Date.now() + timeoutMs,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = {
        key,
        resolve: resolve as (value: unknown) => void,
        reject,
        onTimeout,
        deadline,
        index: this.live.length,
      }
      this.live.push(waiter)
      const sequence = idSequence(key)
      if (sequence >= 0 && this.slots[sequence & SLOT_MASK] === undefined)
        this.slots[sequence & SLOT_MASK] = waiter
      else this.others.set(key, waiter)
      this.sweeper ??= setInterval(() => this.sweep(), SWEEP_MS)
    })
  }

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
    for (const waiter of [...this.live]) this.reject(waiter.key, makeError())
  }

  private find(key: string): Waiter | undefined {
    const sequence = idSequence(key)
    if (sequence >= 0) {
      const waiter = this.slots[sequence & SLOT_MASK]
      if (waiter?.key === key) return waiter
    }
    return this.others.get(key)
  }

  private take(key: string): Waiter | undefined {
    const sequence = idSequence(key)
    let waiter: Waiter | undefined
    if (sequence >= 0 && this.slots[sequence & SLOT_MASK]?.key === key) {
      waiter = this.slots[sequence & SLOT_MASK]
      this.slots[sequence & SLOT_MASK] = undefined
    } else {
      waiter = this.others.get(key)
      if (waiter === undefined) return undefined
      this.others.delete(key)
    }
    const last = this.live.pop()!
    if (last !== waiter) {
      this.live[waiter!.index] = last
      last.index = waiter!.index
    }
    return waiter
  }

  private sweep(): void {
    const now = Date.now()
    for (let i = this.live.length - 1; i >= 0; i--) {
      const waiter = this.live[i]
      if (waiter !== undefined && waiter.deadline <= now && this.take(waiter.key) !== undefined) {
        waiter.reject(waiter.onTimeout())
      }
    }
    // Stopped here, not when the last call settles: calls made one after another would otherwise
    // start and clear a timer each. Idle, it outlives the last call by at most SWEEP_MS.
    if (this.live.length === 0) {
      clearInterval(this.sweeper)
      this.sweeper = undefined
    }
  }
}
