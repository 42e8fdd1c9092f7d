import { toCloudEvent } from '../envelope/cloudevents.js'
import { encodeEnvelope } from '../envelope/codec.js'
import type { Envelope } from '../envelope/envelope.js'
import { PayloadTooLargeError } from '../errors/errors.js'
import type { OutboundMessage } from '../transport/port.js'

/**
 * An envelope on its way out, encoded at most once. Network transports read `bytes`; the engine
 * touches it before handing the message over, so a message too large for the bridge fails at
 * the caller, before anything waits for it. In-process transports never read it.
 */
export class Outbound implements OutboundMessage {
  private encoded: Uint8Array | undefined
  private encodedCloudEvent: Uint8Array | undefined

  constructor(
    readonly envelope: Envelope,
    private readonly maxBytes: number,
    private readonly bridge: string,
  ) {}

  get bytes(): Uint8Array {
    this.encoded ??= encodeEnvelope(this.envelope, this.maxBytes, this.bridge)
    return this.encoded
  }

  get cloudEventBytes(): Uint8Array {
    if (this.encodedCloudEvent === undefined) {
      const bytes = Buffer.from(JSON.stringify(toCloudEvent(this.envelope)), 'utf8')
      if (bytes.byteLength > this.maxBytes)
        throw new PayloadTooLargeError(bytes.byteLength, this.maxBytes, this.bridge)
      this.encodedCloudEvent = bytes
    }
    return this.encodedCloudEvent
  }
}
