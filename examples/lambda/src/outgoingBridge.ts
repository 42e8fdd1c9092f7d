import { EventBusBridge } from '@conduit/aws-lambda'
import { type EventBridge, MemoryBridge } from '@conduit/core'

/**
 * The bridge a function's outgoing invokes and emits go through, picked from its environment:
 * template.yaml sets CONDUIT_EVENT_BUS, so emits become PutEvents on that bus. Without it
 * (tests, local runs), a MemoryBridge: nothing outside the function hears them.
 * Any other bridge works the same way, e.g. `() => new NatsBridge({ servers: env.NATS_URL })`
 * for functions attached to a VPC that reaches a NATS server.
 */
export function bridgeFromEnvironment(env: NodeJS.ProcessEnv = process.env): () => EventBridge {
  return () =>
    env.CONDUIT_EVENT_BUS ? new EventBusBridge({ eventBusName: env.CONDUIT_EVENT_BUS }) : new MemoryBridge()
}
