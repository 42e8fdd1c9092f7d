import { type BridgeCapabilities, supported, unsupported } from '@conduit/core'

/** What Dapr service invocation and pub/sub give Conduit, and what they cannot. */
export function daprCapabilities(maxPayloadBytes: number): BridgeCapabilities {
  return Object.freeze({
    requestReply: supported,
    durable: supported,
    everyInstance: unsupported(
      'Dapr delivers each message to one instance per app id (its consumer group); every instance ' +
        'would need its own app id or consumerID, which Dapr sets per sidecar, not per subscription',
    ),
    wildcards: unsupported(
      'Dapr topics are exact names; wildcard topics exist only in some pub/sub components and are not portable',
    ),
    noHandlerDetection: unsupported(
      'Dapr reports an unknown, stopped or crashed target app alike (ERR_DIRECT_INVOKE, after its own retries), ' +
        'so "nothing listens" cannot be told from "failed mid-call"; only a running app without the command answers 404 at once',
    ),
    deadLetterInspection: unsupported(
      'the Dapr pub/sub API cannot read a topic back; subscribe to the dead-letter topic <prefix>dead-letter.<group> instead',
    ),
    maxPayloadBytes,
  })
}
