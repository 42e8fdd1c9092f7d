import { encodeEnvelope } from '../envelope/codec.js'
import type { Envelope } from '../envelope/envelope.js'
import type { OutboundMessage } from '../transport/port.js'

/**
 * An envelope on its way out, encoded at most once. Network transports read `bytes`; the engine
 * touches it before handing the message over, so a message too large for the bridge fails at
 * the caller, before anything waits for it. In-process transports never read it.
 */
export class Outbound implements OutboundMessage {
  private encoded: Uint8Array | undefined

  constructor(
    readonly envelope: Envelope,
    private readonly maxBytes: number,
    private readonly bridge: string,
  ) {}

  get bytes(): Uint8Array {
    this.encoded ??= encodeEnvelope(this.envelope, this.maxBytes, this.bridge)
    return this.encoded
  }
}
