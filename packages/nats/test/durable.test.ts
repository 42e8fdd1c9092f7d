import { BridgeUnavailableError } from '@conduit/core'
import { DiscardPolicy } from '@nats-io/jetstream'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DEAD_LETTER_REASON_HEADER, NatsSubjects } from '../src/index.js'
import { auditService, monitorService, orderPlaced, RECORD_ORDER_GROUP, Testbed } from './fixtures.js'

const POLL = { timeout: 10_000, interval: 20 }
const AUDIT_CONSUMER = 'audit~v1~recordOrder'

describe('NATS durable subscriptions (JetStream)', { timeout: 20_000 }, () => {
  let bed: Testbed
  let subjects: NatsSubjects
  beforeEach(() => {
    bed = new Testbed()
    subjects = new NatsSubjects(bed.prefix)
  })
  afterEach(async () => {
    await bed.close()
  })

  it('stores only the events a durable subscription wants, and keeps them while no instance runs', async () => {
    const seen: number[] = []
    const instance = await bed.run(
      auditService((id) => void seen.push(id)),
      await bed.bridge(),
    )
    await instance.stop()
    const emitter = await bed.bridge()
    for (const id of [1, 2, 3]) await emitter.emit(orderPlaced, { id })
    await emitter.emit('order.cancelled', { id: 4 }) // no durable interest: core NATS only
    const { jsm } = await bed.admin()
    const consumer = await jsm.consumers.info(subjects.eventStream, AUDIT_CONSUMER)
    expect(consumer.num_pending).toBe(3)
    expect((await jsm.streams.info(subjects.eventStream)).state.messages).toBe(3)

    await bed.run(
      auditService((id) => void seen.push(id)),
      await bed.bridge(),
    )
    await expect.poll(() => [...seen].sort(), POLL).toEqual([1, 2, 3])
    // acked by the new instance: interest retention removes them from the stream
    await expect.poll(async () => (await jsm.streams.info(subjects.eventStream)).state.messages, POLL).toBe(0)
  })

  it('waits for the JetStream ack of a durable event and fails the emit when the stream refuses it', async () => {
    await bed.run(
      auditService(() => new Promise(() => undefined)), // holds every event unacked
      await bed.bridge({ drainTimeout: 100 }),
    )
    const emitter = await bed.bridge()
    await emitter.emit(orderPlaced, { id: 1 })
    const { jsm } = await bed.admin()
    const { config } = await jsm.streams.info(subjects.eventStream)
    await jsm.streams.update(subjects.eventStream, { ...config, max_msgs: 1, discard: DiscardPolicy.New })
    const error = await emitter.emit(orderPlaced, { id: 2 }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(BridgeUnavailableError)
    expect((error as Error).message).toMatch(/JetStream did not confirm the event on .*maximum messages/)
  })

  it('counts attempts with the delivery count and dead-letters with the reason in a header', async () => {
    const attempts: number[] = []
    const bridge = await bed.bridge()
    await bed.run(
      auditService((_id, attempt) => {
        attempts.push(attempt)
        throw new Error('ledger is read-only')
      }),
      bridge,
    )
    await (await bed.bridge()).emit(orderPlaced, { id: 9 })
    await expect.poll(() => attempts, POLL).toEqual([1, 2])
    await expect
      .poll(
        async () => (await bridge.readDeadLetters(RECORD_ORDER_GROUP)).map((letter) => letter.payload),
        POLL,
      )
      .toEqual([{ id: 9 }])
    const { jsm } = await bed.admin()
    const stored = await jsm.streams.getMessage(subjects.deadLetterStream, {
      last_by_subj: subjects.deadLetter(RECORD_ORDER_GROUP),
    })
    expect(stored?.header.get(DEAD_LETTER_REASON_HEADER)).toContain('failed 2 times: ledger is read-only')
    // dead-lettered means acked: nothing left for the consumer
    await expect
      .poll(
        async () => (await jsm.consumers.info(subjects.eventStream, AUDIT_CONSUMER)).num_ack_pending,
        POLL,
      )
      .toBe(0)
  })

  it('redelivers to another instance after the ack wait when an instance dies mid-handler', async () => {
    const handledBy: string[] = []
    const durable = { ackWaitMs: 1_000 }
    const doomed = await bed.bridge({ durable, drainTimeout: 100 })
    await bed.run(
      auditService(() => new Promise(() => handledBy.push('doomed'))), // never finishes
      doomed,
    )
    await (await bed.bridge()).emit(orderPlaced, { id: 1 })
    await expect.poll(() => handledBy, POLL).toEqual(['doomed'])
    await doomed.connection?.close() // the process "dies": no ack, no nak
    const survivors: number[] = []
    await bed.run(
      auditService((_id, attempt) => void survivors.push(attempt)),
      await bed.bridge({ durable }),
    )
    await expect.poll(() => survivors, POLL).toEqual([2])
  })

  it('re-creates its consumer at once when it is deleted under a running subscription', async () => {
    const seen: number[] = []
    await bed.run(
      auditService((id) => void seen.push(id)),
      await bed.bridge(),
    )
    const { jsm } = await bed.admin()
    await jsm.streams.delete(subjects.eventStream) // takes the consumer with it
    await expect
      .poll(
        async () => (await jsm.consumers.info(subjects.eventStream, AUDIT_CONSUMER).catch(() => null))?.name,
        POLL,
      )
      .toBe(AUDIT_CONSUMER)
    const emitter = await bed.bridge()
    await emitter.emit(orderPlaced, { id: 8 })
    await expect.poll(() => seen, POLL).toEqual([8])
  })

  it("removes an everyInstance durable subscription's own consumer when the instance stops", async () => {
    const seen: number[] = []
    const instance = await bed.run(monitorService(seen), await bed.bridge())
    await (await bed.bridge()).emit(orderPlaced, { id: 5 })
    await expect.poll(() => seen, POLL).toEqual([5])
    const { jsm } = await bed.admin()
    const names = async () => {
      const found: string[] = []
      for await (const consumer of jsm.consumers.list(subjects.eventStream)) found.push(consumer.name)
      return found
    }
    expect(await names()).toHaveLength(1)
    await instance.stop()
    expect(await names()).toEqual([])
  })
})
