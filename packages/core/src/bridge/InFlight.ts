/** Counts handler runs in progress so stop() can wait for them, with a bound. */
export class InFlight {
  private count = 0
  private drained: (() => void)[] = []

  get size(): number {
    return this.count
  }

  begin(): void {
    this.count++
  }

  end(): void {
    this.count--
    if (this.count === 0 && this.drained.length > 0) {
      const waiters = this.drained
      this.drained = []
      for (const resolve of waiters) resolve()
    }
  }

  /** Resolves true when nothing is in flight, false if `timeoutMs` passed first. */
  waitForDrain(timeoutMs: number): Promise<boolean> {
    if (this.count === 0) return Promise.resolve(true)
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs)
      this.drained.push(() => {
        clearTimeout(timer)
        resolve(true)
      })
    })
  }
}
