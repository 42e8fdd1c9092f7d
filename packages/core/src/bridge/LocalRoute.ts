import type { Sender } from '../envelope/envelope.js'
import type { TransportListener } from '../transport/port.js'
import { InFlight } from './InFlight.js'
import type { CommandExecutor, EventExecutor } from './receivers.js'

/** One service instance's handler behind a shared transport listener. */
export interface LocalCommandHandler {
  readonly sender: Sender
  readonly execute: CommandExecutor
  readonly inFlight: InFlight
}

export interface LocalEventHandler {
  readonly execute: EventExecutor
  readonly inFlight: InFlight
}

/**
 * Everything this bridge instance registered for one command address or consumer group: one
 * transport listener, and round-robin among the local registrations behind it. This is the only
 * place in-process routing happens; bridges never see more than one listener per address.
 */
export class LocalRoute<Handler extends { readonly inFlight: InFlight }> {
  private handlers: Handler[] = []
  private next = 0
  listener: TransportListener | undefined
  /** set while the transport listener is being opened, so a second registration waits for it */
  opening: Promise<void> | undefined

  get isEmpty(): boolean {
    return this.handlers.length === 0
  }

  add(handler: Handler): void {
    this.handlers.push(handler)
  }

  remove(handler: Handler): void {
    this.handlers = this.handlers.filter((candidate) => candidate !== handler)
  }

  /** The next local handler, or undefined once every registration left (the listener is draining). */
  pick(): Handler | undefined {
    const { handlers } = this
    if (handlers.length <= 1) return handlers[0]
    if (this.next >= handlers.length) this.next = 0
    return handlers[this.next++]
  }
}

export function newInFlight(): InFlight {
  return new InFlight()
}
