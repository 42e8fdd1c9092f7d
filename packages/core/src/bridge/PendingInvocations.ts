import type { ConduitError } from '../errors/errors.js'
import { idSequence } from './envelopes.js'

/** One waiting invocation; the holder of it may settle it without a lookup by key. */
export interface Waiter {
  readonly key: string
  resolve(value: unknown): void
  reject(error: unknown): void
  readonly onTimeout: () => ConduitError
  readonly deadline: number
  /** position in `live`; -1 once settled */
  index: number
  /** its entry in `slots`; -1 when it sits in `others`, NOT_INDEXED when in neither */
  slot: number
  /** set by open() */
  promise: Promise<unknown> | undefined
}

const SLOT_COUNT = 1 << 16
const SLOT_MASK = SLOT_COUNT - 1
/** the `slot` of a waiter only its holder settles (open) */
const NOT_INDEXED = -2
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
      this.add(key, resolve as (value: unknown) => void, reject, onTimeout, deadline)
    })
  }

  /**
   * Like `wait`, for a caller that settles the waiter itself (settle, fail): no reply will look
   * it up, so it is not indexed by key (resolve, reject and has do not see it); the deadline
   * sweep, rejectAll and size do.
   */
  open(key: string, onTimeout: () => ConduitError, deadline: number): Waiter & { promise: Promise<unknown> } {
    let resolve!: (value: unknown) => void
    let reject!: (error: unknown) => void
    const promise = new Promise((onResolve, onReject) => {
      resolve = onResolve
      reject = onReject
    })
    const waiter = this.add(key, resolve, reject, onTimeout, deadline, false)
    waiter.promise = promise
    return waiter as Waiter & { promise: Promise<unknown> }
  }

  resolve(key: string, value: unknown): boolean {
    const waiter = this.find(key)
    return waiter !== undefined && this.settle(waiter, value)
  }

  reject(key: string, error: unknown): boolean {
    const waiter = this.find(key)
    return waiter !== undefined && this.fail(waiter, error)
  }

  /** Resolves `waiter` (or fails it with its timeout error if its deadline has passed); false if already settled. */
  settle(waiter: Waiter, value: unknown): boolean {
    if (!this.take(waiter)) return false
    if (Date.now() >= waiter.deadline) waiter.reject(waiter.onTimeout())
    else waiter.resolve(value)
    return true
  }

  /** Rejects `waiter`; false if already settled. */
  fail(waiter: Waiter, error: unknown): boolean {
    if (!this.take(waiter)) return false
    waiter.reject(error)
    return true
  }

  rejectAll(makeError: () => ConduitError): void {
    for (const waiter of [...this.live]) this.fail(waiter, makeError())
  }

  private add(
    key: string,
    resolve: (value: unknown) => void,
    reject: (error: unknown) => void,
    onTimeout: () => ConduitError,
    deadline: number,
    indexed = true,
  ): Waiter {
    const sequence = indexed ? idSequence(key) : -1
    const slot = sequence >= 0 && this.slots[sequence & SLOT_MASK] === undefined ? sequence & SLOT_MASK : -1
    const waiter: Waiter = {
      key,
      resolve,
      reject,
      onTimeout,
      deadline,
      index: this.live.length,
      slot,
      promise: undefined,
    }
    this.live.push(waiter)
    if (slot >= 0) this.slots[slot] = waiter
    else if (indexed) this.others.set(key, waiter)
    else waiter.slot = NOT_INDEXED
    this.sweeper ??= setInterval(() => this.sweep(), SWEEP_MS)
    return waiter
  }

  private find(key: string): Waiter | undefined {
    const sequence = idSequence(key)
    if (sequence >= 0) {
      const waiter = this.slots[sequence & SLOT_MASK]
      if (waiter?.key === key) return waiter
    }
    return this.others.get(key)
  }

  /** Removes a live waiter from every index; false if it was settled already. */
  private take(waiter: Waiter): boolean {
    if (waiter.index < 0) return false
    if (waiter.slot >= 0) this.slots[waiter.slot] = undefined
    else if (waiter.slot !== NOT_INDEXED) this.others.delete(waiter.key)
    const last = this.live.pop()!
    if (last !== waiter) {
      this.live[waiter.index] = last
      last.index = waiter.index
    }
    waiter.index = -1
    return true
  }

  private sweep(): void {
    const now = Date.now()
    for (let i = this.live.length - 1; i >= 0; i--) {
      const waiter = this.live[i]
      if (waiter !== undefined && waiter.deadline <= now && this.take(waiter))
        waiter.reject(waiter.onTimeout())
    }
    // Stopped here, not when the last call settles: calls made one after another would otherwise
    // start and clear a timer each. Idle, it outlives the last call by at most SWEEP_MS.
    if (this.live.length === 0) {
      clearInterval(this.sweeper)
      this.sweeper = undefined
    }
  }
}
