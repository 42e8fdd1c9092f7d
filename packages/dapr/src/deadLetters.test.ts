import { DEAD_LETTER_HEADROOM_BYTES, type DeliveryOutcome } from '@conduit/core/transport'
import { describe, expect, it } from 'vitest'
import { deadLetterBody, type Received } from './deadLetters.js'

type DeadLetter = Extract<DeliveryOutcome, { action: 'dead-letter' }>
const MAX = 64 * 1024

function outcome(message: Uint8Array | object, stub = false): DeadLetter {
  return {
    action: 'dead-letter',
    reason: 'failed 3 times: boom',
    record: { reason: 'failed 3 times: boom', message: message as never, stub },
  }
}

const json = (body: Uint8Array | string) => JSON.parse(Buffer.from(body).toString('utf8'))

describe('deadLetterBody', () => {
  const cloudEvent = { specversion: '1.0', id: 'e1', type: 'shop.order.placed', data: { id: 1 } }

  it('republishes a CloudEvent with the reason and group as extension attributes', () => {
    const received: Received = { raw: {} as never, cloudEvent, json: true, size: 200 }
    const dead = deadLetterBody(outcome({}), 'audit.v1.onPlaced', received, MAX)
    expect(dead.contentType).toBe('application/cloudevents+json')
    expect(json(dead.body)).toMatchObject({
      ...cloudEvent,
      conduitdeadletterreason: 'failed 3 times: boom',
      conduitdeadlettergroup: 'audit.v1.onPlaced',
    })
  })

  it('stores a stub for a CloudEvent that would not fit with the headroom (the engine could not weigh it)', () => {
    const size = MAX - DEAD_LETTER_HEADROOM_BYTES + 1
    const received: Received = { raw: {} as never, cloudEvent, json: true, size }
    const dead = deadLetterBody(outcome({}), 'g', received, MAX)
    expect(json(dead.body)).toEqual({
      conduitDeadLetterStub: 1,
      reason: 'failed 3 times: boom',
      originalId: 'e1',
      originalBytes: size,
    })
  })

  it("passes the engine's stub on, and weighs bytes in the base64 form Dapr stores them in", () => {
    const stub = Buffer.from('{"conduitDeadLetterStub":1}')
    expect(deadLetterBody(outcome(stub, true), 'g', { raw: stub, json: false, size: MAX }, MAX).body).toBe(
      stub,
    )

    const fitsRaw = new Uint8Array(MAX - DEAD_LETTER_HEADROOM_BYTES) // fits as bytes, not as base64
    const dead = deadLetterBody(
      outcome(fitsRaw),
      'g',
      { raw: fitsRaw, json: false, size: fitsRaw.byteLength },
      MAX,
    )
    expect(json(dead.body)).toMatchObject({ conduitDeadLetterStub: 1, originalBytes: fitsRaw.byteLength })

    const small = new Uint8Array([0xff, 0xfe])
    expect(deadLetterBody(outcome(small), 'g', { raw: small, json: false, size: 2 }, MAX)).toEqual({
      body: small,
      contentType: 'application/octet-stream',
    })
  })
})
