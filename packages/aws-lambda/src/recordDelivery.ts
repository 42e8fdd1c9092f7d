import { type Envelope, isConduitError, type Logger } from '@conduit/core'
import type { RecordOrigin } from './inboundEnvelope.js'
import type { LambdaBridge } from './LambdaBridge.js'

/** What became of one record: handled (or nothing subscribes to it), or failed with a reason. */
export type RecordResult = { readonly ok: true } | { readonly ok: false; readonly reason: string }

const HANDLED: RecordResult = Object.freeze({ ok: true })

/**
 * Reads one record and delivers it to the function's subscriptions through the engine.
 * A record that cannot be read, or that a subscription failed on (an engine outcome other
 * than ack), is a failure; a record no subscription matches is acknowledged with a warning.
 */
export async function deliverRecord(
  bridge: LambdaBridge,
  logger: Logger,
  origin: RecordOrigin,
  attempt: number,
  read: () => Envelope,
): Promise<RecordResult> {
  let event: Envelope
  try {
    event = read()
  } catch (error) {
    const reason = describe(error)
    logger.warn({ recordId: origin.id, source: origin.source, reason }, 'malformed record reported as failed')
    return { ok: false, reason }
  }
  let outcomes: Awaited<ReturnType<LambdaBridge['deliverEvent']>>
  try {
    outcomes = await bridge.deliverEvent(event, attempt)
  } catch (error) {
    return { ok: false, reason: describe(error) }
  }
  if (outcomes.length === 0) {
    logger.warn(
      { recordId: origin.id, eventName: event.eventName },
      'no subscription of this function matches the event; acknowledged',
    )
    return HANDLED
  }
  const failed = outcomes.filter(({ outcome }) => outcome.action !== 'ack')
  if (failed.length === 0) return HANDLED
  return {
    ok: false,
    reason: failed
      .map(({ subscription, outcome }) =>
        outcome.action === 'dead-letter'
          ? `${subscription}: ${outcome.reason}`
          : `${subscription}: failed on attempt ${attempt}`,
      )
      .join('; '),
  }
}

/** Thrown by EventBridge and SNS handlers so Lambda retries the event (then dead-letters it). */
export class RecordDeliveryError extends Error {
  constructor(readonly failures: readonly { recordId: string; reason: string }[]) {
    super(
      `${failures.length} record(s) failed: ${failures.map((f) => `${f.recordId}: ${f.reason}`).join(' | ')}`,
    )
    this.name = 'RecordDeliveryError'
  }
}

function describe(error: unknown): string {
  if (isConduitError(error) || error instanceof Error) return error.message
  return String(error)
}
