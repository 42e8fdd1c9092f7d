import { setTimeout as sleep } from 'node:timers/promises'
import type { Logger } from '@conduit/core'
import { type DeliveryOutcome, fromCloudEvent, type TransportHost } from '@conduit/core/transport'
import { type DeadLetterBody, deadLetterBody, deadLetterStub, type Received } from './deadLetters.js'
import { deadLetterTopic, eventNameOfTopic } from './routes.js'
import type { GroupListener } from './TopicSubscriptions.js'

/** Dapr's pub/sub status contract, answered as `{"status": ...}` with HTTP 200. */
export type DaprStatus = 'SUCCESS' | 'RETRY' | 'DROP'

export interface DeliveryEnvironment {
  readonly topicPrefix: string
  readonly maxPayloadBytes: number
  readonly logger: Logger
  readonly reportFailure: TransportHost['reportFailure']
  publish(topic: string, deadLetter: DeadLetterBody): Promise<void>
}

/** What became of a delivery for one group: handled, dead-lettered, or handed back to Dapr. */
type GroupResult = 'done' | 'dropped' | 'give-back'

const decoder = new TextDecoder('utf-8', { fatal: true })

/** The message as it is on the broker: Dapr hands it over base64 in a wrapper (`rawPayload`). */
function unwrap(body: Uint8Array): Uint8Array {
  try {
    const wrapper = JSON.parse(decoder.decode(body)) as { data_base64?: unknown } | null
    const data = typeof wrapper === 'object' && wrapper !== null ? wrapper.data_base64 : undefined
    return typeof data === 'string' ? Buffer.from(data, 'base64') : body
  } catch {
    return body // not Dapr's wrapper: read the body itself
  }
}

/**
 * Reads a delivery. A CloudEvent is read with core's mapping; one without Conduit attributes
 * (another producer's) as the event its topic names. Anything else (an envelope put on the
 * broker as it is, too) goes to the engine as bytes: it decodes them, or says why not.
 */
function read(env: DeliveryEnvironment, topic: string, body: Uint8Array): Received {
  const message = unwrap(body)
  const size = message.byteLength
  let parsed: unknown
  try {
    parsed = JSON.parse(decoder.decode(message))
  } catch {
    return { raw: message, json: false, size }
  }
  const isObject = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
  const published = isObject ? (parsed as Record<string, unknown>) : {}
  if (published.specversion === undefined) return { raw: message, json: true, size }
  const cloudEvent = typeof published.id === 'string' ? published : undefined
  const event = { ...published }
  const named = eventNameOfTopic(env.topicPrefix, topic)
  if (event.conduittype === undefined && named !== undefined) event.type = named
  try {
    return { raw: fromCloudEvent(event), cloudEvent, json: true, size }
  } catch (error) {
    env.logger.debug({ topic, reason: (error as Error).message }, 'delivery is not a Conduit CloudEvent')
    return cloudEvent ? { raw: message, cloudEvent, json: true, size } : { raw: message, json: true, size }
  }
}

/** Publishes what the engine dead-lettered. A failure is reported, and the event still ends here. */
async function deadLetter(
  env: DeliveryEnvironment,
  group: string,
  received: Received,
  outcome: Extract<DeliveryOutcome, { action: 'dead-letter' }>,
): Promise<void> {
  const topic = deadLetterTopic(env.topicPrefix, group)
  try {
    await env.publish(topic, deadLetterBody(outcome, group, received, env.maxPayloadBytes))
  } catch (error) {
    env.reportFailure('publish a dead letter', error, { group, topic, deadLetterReason: outcome.reason })
  }
}

/**
 * One group's handling. Dapr carries no delivery count, so the bridge counts attempts itself: it
 * retries in the process with the engine's backoff until the engine acks or dead-letters (it
 * stops at maxAttempts). A paused listener hands the event back to Dapr instead.
 */
async function settleGroup(
  env: DeliveryEnvironment,
  listener: GroupListener,
  received: Received,
): Promise<GroupResult> {
  for (let attempt = 1; ; attempt++) {
    if (listener.paused) return 'give-back'
    const outcome = await listener.receive(received.raw, { attempt })
    if (outcome.action === 'ack') return 'done'
    if (outcome.action === 'dead-letter') {
      await deadLetter(env, listener.spec.group, received, outcome)
      return 'dropped'
    }
    try {
      await sleep(outcome.delayMs, undefined, { signal: listener.pauseSignal })
    } catch {
      return 'give-back' // paused while waiting
    }
  }
}

/**
 * Handles one Dapr delivery for the groups of this app that consume the topic, and answers
 * Dapr: SUCCESS when every group acked, DROP when one dead-lettered it (the bridge published it
 * to the dead-letter topic itself: Dapr's DROP only discards), RETRY when it must come back (no
 * group here, or one paused) so that Dapr redelivers it.
 */
export async function deliverEvent(
  env: DeliveryEnvironment,
  topic: string,
  listeners: GroupListener[],
  body: Uint8Array,
): Promise<DaprStatus> {
  if (listeners.length === 0) return 'RETRY'
  const received = read(env, topic, body)
  const results = await Promise.all(listeners.map((listener) => settleGroup(env, listener, received)))
  if (results.includes('give-back')) return 'RETRY'
  return results.includes('dropped') ? 'DROP' : 'SUCCESS'
}

/**
 * A delivery larger than the app reads can never be handled: each group here gets a stub in its
 * dead-letter topic and Dapr is told to drop it, instead of redelivering it forever.
 */
export async function dropOversized(
  env: DeliveryEnvironment,
  topic: string,
  listeners: GroupListener[],
  size: number,
  limit: number,
): Promise<DaprStatus> {
  const reason = `the delivery is larger than the ${limit} bytes the app reads`
  const groups = listeners.map((listener) => listener.spec.group)
  env.logger.warn({ topic, size, groups, reason }, 'dead-lettered an event too large to read')
  await Promise.all(
    listeners.map(async ({ spec }) => {
      const deadTopic = deadLetterTopic(env.topicPrefix, spec.group)
      try {
        await env.publish(deadTopic, deadLetterStub(reason, undefined, size))
      } catch (error) {
        env.reportFailure('publish a dead letter', error, {
          group: spec.group,
          topic: deadTopic,
          deadLetterReason: reason,
        })
      }
    }),
  )
  return 'DROP'
}
