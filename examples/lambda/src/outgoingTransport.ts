import { createEventBusTransport } from '@conduit/aws-lambda'
import { MemoryBroker } from '@conduit/core'
import { createMemoryTransport, type Transport } from '@conduit/core/transport'

/**
 * The transport a function's outgoing invokes and emits go through, picked from its environment:
 * template.yaml sets CONDUIT_EVENT_BUS, so emits become PutEvents on that bus. Without it
 * (tests, local runs), an in-memory transport: nothing outside the function hears them.
 * Any other transport works the same way, e.g. `createNatsTransport({ servers: env.NATS_URL })`
 * for functions attached to a VPC that reaches a NATS server.
 */
export function outgoingFromEnvironment(env: NodeJS.ProcessEnv = process.env): Transport {
  return env.CONDUIT_EVENT_BUS
    ? createEventBusTransport({ eventBusName: env.CONDUIT_EVENT_BUS })
    : createMemoryTransport(new MemoryBroker())
}
