import { type BridgeCapabilities, supported, unsupported } from '@conduit/core/transport'

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
    // An app id with no instance (Dapr's name resolution finds none) or a running app without the
    // command (404) is a NoHandlerError at once; any other failed invocation is a 503 at once too.
    noHandlerDetection: supported,
    deadLetterInspection: unsupported(
      'the Dapr pub/sub API cannot read a topic back; subscribe to the dead-letter topic <prefix>dead-letter.<group> instead',
    ),
    maxPayloadBytes,
  })
}
