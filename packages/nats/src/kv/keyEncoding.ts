const PLAIN_KEY_CHAR = /[A-Za-z0-9_/-]/

/**
 * KV keys allow only `[-/_=.A-Za-z0-9]` and treat '.' as a token separator, while store keys are
 * any string (`user:42`). Letters, digits, '_', '-' and '/' stay; everything else (including
 * '.') becomes `=` and its UTF-8 bytes in hex, so one UTF-8 byte takes up to 3 characters. The
 * mapping is reversible and keeps prefixes, so `keys(prefix)` can compare encoded keys. The empty
 * string is `=` alone.
 */
export function encodeKey(key: string): string {
  if (key === '') return '='
  let encoded = ''
  for (const char of key) {
    if (PLAIN_KEY_CHAR.test(char)) encoded += char
    else
      for (const byte of Buffer.from(char, 'utf8'))
        encoded += `=${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return encoded
}

export function decodeKey(encoded: string): string {
  if (encoded === '=') return ''
  const bytes: number[] = []
  for (let index = 0; index < encoded.length; index++) {
    if (encoded[index] === '=') {
      bytes.push(Number.parseInt(encoded.slice(index + 1, index + 3), 16))
      index += 2
    } else {
      bytes.push(encoded.charCodeAt(index))
    }
  }
  return Buffer.from(bytes).toString('utf8')
}

/**
 * Where a namespace's keys live in a bucket. The default namespace ('') keeps each key as one
 * token, as stores before namespaces did; a namespace is one more token in front (`orders.user=3A1`).
 * An encoded part never holds '.', so a subject filter on the token count isolates namespaces
 * exactly: `$KV.<bucket>.*` is the default namespace, `$KV.<bucket>.<ns>.*` another.
 */
export class NamespacedKeys {
  private readonly head: string

  constructor(
    readonly bucket: string,
    readonly namespace: string,
  ) {
    this.head = namespace === '' ? '' : `${encodeKey(namespace)}.`
  }

  /** The KV key (subject tail) of a store key. */
  kvKey(key: string): string {
    return `${this.head}${encodeKey(key)}`
  }

  /** The subject filter matching exactly this namespace's keys. */
  get filterSubject(): string {
    return `$KV.${this.bucket}.${this.head}*`
  }

  /** The encoded store key of a message subject from `filterSubject`, undefined for another shape. */
  encodedKeyOf(subject: string): string | undefined {
    const start = `$KV.${this.bucket}.${this.head}`
    if (!subject.startsWith(start)) return undefined
    const tail = subject.slice(start.length)
    return tail === '' || tail.includes('.') ? undefined : tail
  }

  /**
   * Longest key in UTF-8 bytes whose subject still fits a protocol line of `maxControlLine`
   * bytes. The longest line a store sends is a direct get, `PUB $JS.API.DIRECT.GET.KV_<bucket>.
   * $KV.<bucket>.<namespace>.<key> <reply inbox> <size>`; 128 bytes cover the verb, inbox and size.
   * Every key byte may take 3 characters, so the budget is divided by 3.
   */
  maxKeyBytes(maxControlLine: number): number {
    const fixed = `$JS.API.DIRECT.GET.KV_${this.bucket}.$KV.${this.bucket}.${this.head}`.length
    return Math.max(0, Math.floor((maxControlLine - 128 - fixed) / 3))
  }
}
