/**
 * Writes of one store to the same index bucket run one after another. They would conflict on
 * the bucket's ETag anyway and retry; queueing them in process spares those round trips (writers
 * in other processes still meet the ETag check).
 */
export class BucketLocks {
  private readonly tails = new Map<number, Promise<void>>()

  async run<T>(buckets: readonly number[], work: () => Promise<T>): Promise<T> {
    // taken in ascending order, so two multi-bucket writes never wait on each other in a circle
    const ordered = [...new Set(buckets)].sort((a, b) => a - b)
    const releases: (() => void)[] = []
    try {
      for (const bucket of ordered) releases.push(await this.acquire(bucket))
      return await work()
    } finally {
      for (const release of releases) release()
    }
  }

  private async acquire(bucket: number): Promise<() => void> {
    const previous = this.tails.get(bucket) ?? Promise.resolve()
    let release!: () => void
    const done = new Promise<void>((resolve) => {
      release = resolve
    })
    const tail = previous.then(() => done)
    this.tails.set(bucket, tail)
    await previous
    return () => {
      release()
      if (this.tails.get(bucket) === tail) this.tails.delete(bucket)
    }
  }
}
