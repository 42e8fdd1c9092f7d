import type {
  Delivery,
  DeliveryOutcome,
  EventListenerSpec,
  EventReceiver,
  TransportHost,
  TransportListener,
} from '@conduit/core/transport'
import type { NatsConnection } from '@nats-io/transport-node'
import { coreListener } from './coreListener.js'
import type { DeadLetters } from './DeadLetters.js'
import type { NatsSubjects } from './subjects.js'

const FIRST_DELIVERY: Delivery = Object.freeze({ attempt: 1 })

/**
 * At-most-once events: a core subscription with a queue group per consumer group (none for
 * everyInstance). Nothing to settle; an event the engine could not read is kept in the
 * dead-letter stream when the server has JetStream (`deadLetters`), else only logged.
 */
export async function listenAtMostOnce(
  nc: NatsConnection,
  subjects: NatsSubjects,
  host: TransportHost,
  deadLetters: DeadLetters | undefined,
  spec: EventListenerSpec,
  receive: EventReceiver,
): Promise<TransportListener> {
  const context = { group: spec.group }
  const report = (error: unknown) => host.reportFailure('handle an event', error, context)
  const store = (subject: string) => (outcome: DeliveryOutcome) => {
    if (outcome.action !== 'dead-letter' || !deadLetters) return undefined
    return deadLetters.publish({ group: spec.group, subject, record: outcome.record, attempts: 1 })
  }
  const subscription = nc.subscribe(subjects.eventFilter(spec.eventPattern), {
    // everyInstance: no queue group, so every instance gets its own copy
    ...(spec.everyInstance ? {} : { queue: subjects.groupName(spec.group) }),
    callback: (error, msg) => {
      if (error) report(error)
      else receive(msg.data, FIRST_DELIVERY).then(store(msg.subject)).catch(report)
    },
  })
  // An emit from another process right after listen() returns must reach this subscription.
  await nc.flush()
  return coreListener(nc, subscription)
}
