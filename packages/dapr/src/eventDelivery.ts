import { setTimeout as sleep } from 'node:timers/promises'
import { fromCloudEvent, type Logger, type RawMessage } from '@conduit/core'
import { deadLetterTopic, eventNameOfTopic } from './routes.js'
import type { LocalGroup } from './TopicSubscriptions.js'

/** Dapr's pub/sub status contract, answered as `{"status": ...}` with HTTP 200. */
export type DaprStatus = 'SUCCESS' | 'RETRY' | 'DROP'

export interface DeliveryEnvironment {
  readonly topicPrefix: string
  readonly logger: Logger
  /** aborted when the bridge disconnects: local retries stop and hand the event back */
  readonly closing: AbortSignal
  publishDeadLetter(topic: string, body: string, contentType: string): Promise<void>
}

interface Received {
  /** what the engine decodes: the envelope, or the bytes when they are no Conduit CloudEvent */
  raw: RawMessage
  /** the parsed CloudEvent, when the body was a JSON object */
  cloudEvent?: Record<string, unknown>
}

type GroupResult = 'done' | 'dead-lettered' | 'give-back'

const decoder = new TextDecoder('utf-8', { fatal: true })

/**
 * Reads a delivery. A CloudEvent without Conduit attributes (another producer's) is read as
 * the event its topic names. Anything that is not a readable CloudEvent goes to the engine as
 * bytes, which logs the reason and dead-letters it.
 */
function receive(env: DeliveryEnvironment, topic: string, body: Uint8Array): Received {
  let parsed: unknown
  try {
    parsed = JSON.parse(decoder.decode(body))
  } catch {
    return { raw: body }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { raw: body }
  const cloudEvent = parsed as Record<string, unknown>
  const event = { ...cloudEvent }
  const named = eventNameOfTopic(env.topicPrefix, topic)
  if (event.conduittype === undefined && named !== undefined) event.type = named
  try {
    return { raw: fromCloudEvent(event), cloudEvent }
  } catch (error) {
    env.logger.debug({ topic, reason: (error as Error).message }, 'delivery is not a Conduit CloudEvent')
    return { raw: body, cloudEvent }
  }
}

async function deadLetter(
  env: DeliveryEnvironment,
  group: LocalGroup,
  received: Received,
  body: Uint8Array,
  reason: string,
): Promise<GroupResult> {
  const topic = deadLetterTopic(env.topicPrefix, group.spec.group)
  const { cloudEvent } = received
  const [payload, contentType] =
    cloudEvent && typeof cloudEvent.id === 'string'
      ? [
          JSON.stringify({
            ...cloudEvent,
            conduitdeadletterreason: reason,
            conduitdeadlettergroup: group.spec.group,
          }),
          'application/cloudevents+json',
        ]
      : [
          JSON.stringify({ group: group.spec.group, reason, received: Buffer.from(body).toString('utf8') }),
          'application/json',
        ]
  try {
    await env.publishDeadLetter(topic, payload, contentType)
    return 'dead-lettered'
  } catch (error) {
    env.logger.error(
      { err: error, group: group.spec.group, topic },
      'could not dead-letter an event; Dapr will redeliver it',
    )
    return 'give-back'
  }
}

/** One group's handling: retries with the engine's backoff in this process, then dead-letters. */
async function settleGroup(
  env: DeliveryEnvironment,
  group: LocalGroup,
  received: Received,
  body: Uint8Array,
): Promise<GroupResult> {
  for (let attempt = 1; ; attempt++) {
    const receiver = group.pick()
    if (!receiver || env.closing.aborted) return 'give-back'
    const outcome = await receiver(received.raw, { attempt })
    if (outcome.action === 'ack') return 'done'
    if (outcome.action === 'dead-letter') return deadLetter(env, group, received, body, outcome.reason)
    try {
      await sleep(outcome.delayMs, undefined, { signal: env.closing })
    } catch {
      return 'give-back'
    }
  }
}

/**
 * Handles one Dapr delivery for the groups of this app that consume the topic, and answers
 * Dapr: SUCCESS when every group acked, DROP when one dead-lettered it (the bridge published it
 * to the dead-letter topic itself), RETRY when it must come back (no group here any more, the
 * bridge is stopping, or dead-lettering failed) so that Dapr redelivers it.
 */
export async function deliverEvent(
  env: DeliveryEnvironment,
  topic: string,
  groups: LocalGroup[],
  body: Uint8Array,
): Promise<DaprStatus> {
  if (groups.length === 0) return 'RETRY'
  const received = receive(env, topic, body)
  const results = await Promise.all(groups.map((group) => settleGroup(env, group, received, body)))
  if (results.includes('give-back')) return 'RETRY'
  return results.includes('dead-lettered') ? 'DROP' : 'SUCCESS'
}
