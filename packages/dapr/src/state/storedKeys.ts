/**
 * Where a namespace's data lives in a Dapr state store. Dapr reserves `||` (it separates the app
 * id it puts in front), so '%' and '|' are escaped as `%25` and `%7C`; in the namespace ':' is
 * escaped too, so the first ':' ends it and two namespaces never share a stored key:
 *
 * - `<namespace>:k:<key>` a value (in an envelope, see envelope.ts)
 * - `<namespace>:i:<n>`   bucket n of the key index (keyIndex.ts)
 * - `<namespace>:guard`   a constant value whose ETag serializes the creation of buckets
 *
 * An escaped byte takes 3, so a stored key is at most 3 times the key's UTF-8 bytes plus the
 * namespace.
 */
export class StoredKeys {
  private readonly head: string

  constructor(
    namespace: string,
    readonly bucketCount: number,
  ) {
    this.head = namespace.replaceAll('%', '%25').replaceAll('|', '%7C').replaceAll(':', '%3A')
  }

  valueKey(key: string): string {
    return `${this.head}:k:${key.replaceAll('%', '%25').replaceAll('|', '%7C')}`
  }

  bucketKey(bucket: number): string {
    return `${this.head}:i:${bucket}`
  }

  get guardKey(): string {
    return `${this.head}:guard`
  }

  /** The index bucket holding `key`: FNV-1a over its UTF-8 bytes. */
  bucketOf(key: string): number {
    let hash = 0x811c9dc5
    for (const byte of Buffer.from(key, 'utf8')) hash = Math.imul(hash ^ byte, 0x01000193)
    return (hash >>> 0) % this.bucketCount
  }
}
