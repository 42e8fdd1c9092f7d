import { jetstream } from '@nats-io/jetstream'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { DEAD_LETTER_REASON_HEADER, NatsSubjects, STUB_HEADER } from '../src/index.js'
import { auditService, RECORD_ORDER_GROUP, Testbed } from './fixtures.js'

const POLL = { timeout: 15_000, interval: 50 }
const AUDIT_CONSUMER = 'audit~v1~recordOrder'

describe('NATS dead letters (JetStream)', { timeout: 30_000 }, () => {
  let bed: Testbed
  let subjects: NatsSubjects
  beforeEach(() => {
    bed = new Testbed()
    subjects = new NatsSubjects(bed.prefix)
  })
  afterEach(async () => {
    await bed.close()
  })

  const consumerState = async () => {
    const { jsm } = await bed.admin()
    const info = await jsm.consumers.info(subjects.eventStream, AUDIT_CONSUMER)
    return { pending: info.num_pending, unacked: info.num_ack_pending }
  }

  it('stores the stub for a malformed event near max_payload, with a header saying so, and acks it', async () => {
    const handled: number[] = []
    await bed.run(
      auditService((id) => void handled.push(id)),
      await bed.bridge(),
    )
    const { nc } = await bed.admin()
    const huge = new Uint8Array((nc.info?.max_payload ?? 1024 * 1024) - 512).fill(0x7b) // '{{{{…': not JSON
    await jetstream(nc).publish(subjects.event('order.placed'), huge)

    const { jsm } = await bed.admin()
    const letter = await vi.waitFor(async () => {
      const stored = await jsm.streams.getMessage(subjects.deadLetterStream, {
        last_by_subj: subjects.deadLetter(RECORD_ORDER_GROUP),
      })
      if (!stored) throw new Error('no dead letter yet')
      return stored
    }, POLL)
    expect(letter.header.get(STUB_HEADER)).toBe('true')
    expect(letter.header.get(DEAD_LETTER_REASON_HEADER)).not.toBe('')
    expect(letter.json()).toMatchObject({ conduitDeadLetterStub: 1, originalBytes: huge.byteLength })
    await expect.poll(consumerState, POLL).toEqual({ pending: 0, unacked: 0 })
    expect(handled).toEqual([])
  })

  it('terminates an event whose dead letter the stream keeps refusing, after a bounded number of deliveries', async () => {
    // A dead-letter stream that refuses every message (an operator's mistake, a full disk...).
    const { jsm } = await bed.admin()
    await jsm.streams.add({
      name: subjects.deadLetterStream,
      subjects: [subjects.allDeadLetters],
      max_msg_size: 1,
    })
    const attempts: number[] = []
    const bridge = await bed.bridge({ durable: { ackWaitMs: 1_000 } })
    const reported = vi.spyOn(bridge.logger, 'error')
    await bed.run(
      auditService((_id, attempt) => {
        attempts.push(attempt)
        throw new Error('ledger is read-only')
      }),
      bridge,
    )
    await (await bed.bridge()).emit('order.placed', { id: 1 })

    // maxAttempts 2, then 3 more deliveries to store the dead letter; then the server lets it go.
    await expect.poll(consumerState, POLL).toEqual({ pending: 0, unacked: 0 })
    await expect.poll(async () => (await jsm.streams.info(subjects.eventStream)).state.messages, POLL).toBe(0)
    expect(attempts).toEqual([1, 2, 3, 4, 5])
    const failures = reported.mock.calls.filter(
      ([context]) => (context as { action?: string }).action === 'dead-letter an event',
    )
    expect(failures).toHaveLength(4)
    expect(failures.at(-1)?.[0]).toMatchObject({ attempts: 5, next: 'terminated: the event is dropped' })
  })
})
