import { AckPolicy, DeliverPolicy } from '@nats-io/jetstream'
import { nanos } from '@nats-io/transport-node'
import { decodeKey, encodeKey, type NamespacedKeys } from './keyEncoding.js'
import type { OpenBucket } from './lazyBucket.js'

/** a listing left unread this long is dropped by the server */
const IDLE_LISTING_MS = 5 * 60_000
/** how long one fetch waits for messages the consumer still reports pending */
const FETCH_WAIT_MS = 5_000

/**
 * The keys of one namespace, a page at a time. `kv.keys()` pushes every key into an unbounded
 * queue as fast as the server sends them; this pulls instead: an ephemeral consumer delivering
 * the last message per subject (headers only, so no values travel), fetched at most `pageSize`
 * at a time, so a million keys never sit in memory. Keys whose last message is a delete or purge
 * marker are skipped; the prefix is compared on encoded keys (the encoding keeps prefixes).
 *
 * A key rewritten during the listing loses its old message (a bucket keeps one per key by
 * default), so the consumer skips it unless it was already delivered; the rewrite arrives after
 * the initial messages. So the listing also takes the messages written until the initial ones
 * are through (never further): a key present throughout is listed once, or twice if it was
 * rewritten after its turn, but never missed.
 */
export async function* listKeys(
  bucket: OpenBucket,
  names: NamespacedKeys,
  prefix: string,
  pageSize: number,
): AsyncGenerator<string[]> {
  const encodedPrefix = prefix === '' ? '' : encodeKey(prefix)
  const lastSequence = async () => (await bucket.jsm.streams.info(bucket.stream)).state.last_seq
  let bound = await lastSequence()
  let initialDone = false
  const info = await bucket.jsm.consumers.add(bucket.stream, {
    ack_policy: AckPolicy.None,
    deliver_policy: DeliverPolicy.LastPerSubject,
    filter_subject: names.filterSubject,
    headers_only: true,
    mem_storage: true,
    inactive_threshold: nanos(IDLE_LISTING_MS),
  })
  const consumer = bucket.js.consumers.getConsumerFromInfo(info)
  try {
    let pending = info.num_pending
    let page: string[] = []
    while (pending > 0) {
      const messages = await consumer.fetch({
        max_messages: Math.min(pending, pageSize),
        expires: FETCH_WAIT_MS,
      })
      let received = 0
      for await (const message of messages) {
        received++
        pending = message.info.pending
        if (message.seq > bound && !initialDone) {
          // the first message written after the start: every initial one has been delivered
          initialDone = true
          bound = await lastSequence()
        }
        if (message.seq > bound) {
          pending = 0
          break
        }
        const operation = message.headers?.get('KV-Operation')
        if (operation === 'DEL' || operation === 'PURGE') continue
        const encoded = names.encodedKeyOf(message.subject)
        if (encoded === undefined || !encoded.startsWith(encodedPrefix)) continue
        page.push(decodeKey(encoded))
        if (page.length >= pageSize) {
          yield page
          page = []
        }
      }
      // fewer than asked: what was pending went away (purged); ask the server what is left
      if (received === 0) pending = (await consumer.info()).num_pending
    }
    if (page.length > 0) yield page
  } finally {
    await consumer.delete().catch(() => false)
  }
}
