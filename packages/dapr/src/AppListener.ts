import type { TransportListener } from '@conduit/core/transport'

/**
 * One engine listener on the app port (a command route or a consumer group). Dapr pushes to the
 * app, so pausing is refusing: a paused listener's deliveries are answered 503 (invocations) or
 * RETRY (pub/sub) so that the sidecar tries again, elsewhere when it can. Closing unregisters it.
 */
export class AppListener<Receiver> implements TransportListener {
  private readonly pausing = new AbortController()

  constructor(
    readonly receive: Receiver,
    private readonly release: () => void,
  ) {}

  get paused(): boolean {
    return this.pausing.signal.aborted
  }

  /** aborts when the listener pauses: waits for a local retry end there */
  get pauseSignal(): AbortSignal {
    return this.pausing.signal
  }

  // Not async on purpose: the engine relies on pause taking effect before it returns.
  pause(): Promise<void> {
    this.pausing.abort()
    return Promise.resolve()
  }

  close(): Promise<void> {
    this.pausing.abort()
    this.release()
    return Promise.resolve()
  }
}
