import { EventBridge } from '@conduit/core/transport'
import type { DaprBridgeOptions } from './options.js'
import { createDaprTransport, type DaprTransport } from './transport.js'

/**
 * Conduit on Dapr: commands through service invocation, events through pub/sub as CloudEvents.
 * The broker behind Dapr is chosen in its component YAML, not here.
 */
export class DaprBridge extends EventBridge<DaprTransport> {
  constructor(options: DaprBridgeOptions = {}) {
    super(createDaprTransport(options), options)
  }

  /** The Dapr app id this process serves as (configured, `APP_ID`, or that of the first service started). */
  get appId(): string | undefined {
    return this.transport.appId
  }

  /** The port the sidecar calls this process on, once started (useful with `appPort: 0`). */
  get appPort(): number | undefined {
    return this.transport.appPort
  }
}
