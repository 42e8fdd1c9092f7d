import type { Envelope } from '../envelope/envelope.js'
import { commandAddressKey } from '../envelope/envelope.js'
import { NoHandlerError } from '../errors/errors.js'
import { compileEventPattern } from '../names.js'
import type {
  CommandAddress,
  CommandReceiver,
  DeliveryOutcome,
  EventListenerSpec,
  EventReceiver,
  RawMessage,
  ReplySender,
} from '../transport/port.js'

const RESOLVED = Promise.resolve()
const addressKeys = new WeakMap<CommandAddress, string>()

function keyOf(address: CommandAddress): string {
  let key = addressKeys.get(address)
  if (key === undefined) {
    key = commandAddressKey(address)
    addressKeys.set(address, key)
  }
  return key
}

interface CommandRoute {
  receivers: CommandReceiver[]
  next: number
}

interface PendingEvent {
  raw: RawMessage
  attempt: number
}

/** A durable event handed to a receiver and not yet settled by it. */
interface Unsettled {
  readonly group: ConsumerGroup
  readonly pending: PendingEvent
  /** its receiver left before settling it, so it went to another one; a late outcome is ignored */
  handedOver: boolean
}

interface ConsumerGroup {
  readonly spec: EventListenerSpec
  readonly matches: (eventName: string) => boolean
  receivers: EventReceiver[]
  next: number
  /** durable groups keep events while no receiver runs */
  readonly backlog: PendingEvent[]
  readonly deadLetters: RawMessage[]
}

/**
 * The in-process "broker" behind MemoryBridge. One per process by default; share one between
 * several MemoryBridge instances to model several processes in a test. Durable groups outlive
 * their receivers (events wait in a backlog) but not the process.
 */
export class MemoryBroker {
  private readonly commandRoutes = new Map<string, CommandRoute>()
  private readonly replyRoutes = new Map<string, (raw: RawMessage) => void>()
  private readonly replySenders = new Map<string, ReplySender>()
  private readonly groups = new Map<string, ConsumerGroup>()
  private readonly groupsByEvent = new Map<string, ConsumerGroup[]>()
  private readonly retryTimers = new Set<NodeJS.Timeout>()
  private readonly unsettled = new Map<EventReceiver, Set<Unsettled>>()

  addReplyRoute(instanceId: string, receive: (raw: RawMessage) => void): void {
    this.replyRoutes.set(instanceId, receive)
  }

  removeReplyRoute(instanceId: string): void {
    this.replyRoutes.delete(instanceId)
    this.replySenders.delete(instanceId)
  }

  sendCommand(address: CommandAddress, raw: RawMessage, replyTo: string): void {
    const route = this.commandRoutes.get(keyOf(address))
    if (!route || route.receivers.length === 0) {
      throw new NoHandlerError(`No handler for ${commandAddressKey(address)} on the memory bridge`)
    }
    const receiver = route.receivers[route.next++ % route.receivers.length]!
    const reply = this.replySenderFor(replyTo)
    // Asynchronous like a real broker: the caller's code never runs inside the handler's stack.
    // (A resolved promise, not queueMicrotask, which wraps every callback in an AsyncResource.)
    RESOLVED.then(() => {
      void receiver(raw, reply) // never rejects (CommandReceiver); not returned, so no promise is adopted
    })
  }

  /** The receiver every command to `address` reaches now, if there is exactly one. */
  soleCommandReceiver(address: CommandAddress): CommandReceiver | undefined {
    const receivers = this.commandRoutes.get(keyOf(address))?.receivers
    return receivers?.length === 1 ? receivers[0] : undefined
  }

  private replySenderFor(replyTo: string): ReplySender {
    let sender = this.replySenders.get(replyTo)
    if (!sender) {
      sender = (response) => {
        this.replyRoutes.get(replyTo)?.(response.envelope as Envelope)
      }
      this.replySenders.set(replyTo, sender)
    }
    return sender
  }

  addCommandReceiver(address: CommandAddress, receiver: CommandReceiver): () => void {
    const key = commandAddressKey(address)
    let route = this.commandRoutes.get(key)
    if (!route) {
      route = { receivers: [], next: 0 }
      this.commandRoutes.set(key, route)
    }
    route.receivers.push(receiver)
    return () => {
      route.receivers = route.receivers.filter((r) => r !== receiver)
    }
  }

  publishEvent(eventName: string, raw: RawMessage): void {
    for (const group of this.groupsFor(eventName)) this.deliver(group, { raw, attempt: 1 })
  }

  addEventReceiver(spec: EventListenerSpec, receiver: EventReceiver): () => void {
    let group = this.groups.get(spec.group)
    if (!group) {
      group = {
        spec,
        matches: compileEventPattern(spec.eventPattern),
        receivers: [],
        next: 0,
        backlog: [],
        deadLetters: [],
      }
      this.groups.set(spec.group, group)
      this.groupsByEvent.clear()
    }
    const joined = group
    joined.receivers.push(receiver)
    for (const pending of joined.backlog.splice(0)) this.deliver(joined, pending)
    return () => {
      joined.receivers = joined.receivers.filter((r) => r !== receiver)
      if (joined.receivers.length === 0 && joined.spec.delivery !== 'durable') {
        this.groups.delete(joined.spec.group)
        this.groupsByEvent.clear()
      }
    }
  }

  readDeadLetters(group: string): RawMessage[] {
    return [...(this.groups.get(group)?.deadLetters ?? [])]
  }

  /** Test hook: puts arbitrary data where a command handler listens. */
  injectRawCommand(address: CommandAddress, raw: unknown, replyTo = ''): void {
    this.sendCommand(address, raw as RawMessage, replyTo)
  }

  /**
   * `receiver` is gone for good (its bridge disconnected): the durable events it has not settled
   * go to the group again, as a broker redelivers what a closed connection left unacked.
   */
  releaseUnsettled(receiver: EventReceiver): void {
    const held = this.unsettled.get(receiver)
    this.unsettled.delete(receiver)
    for (const delivery of held ?? []) {
      delivery.handedOver = true
      this.deliver(delivery.group, { raw: delivery.pending.raw, attempt: delivery.pending.attempt + 1 })
    }
  }

  /** Test hook: puts arbitrary data where subscriptions to `eventName` listen. */
  injectRawEvent(eventName: string, raw: unknown): void {
    this.publishEvent(eventName, raw as RawMessage)
  }

  /** Cancels scheduled redeliveries (for tests that tear the broker down). */
  close(): void {
    for (const timer of this.retryTimers) clearTimeout(timer)
    this.retryTimers.clear()
  }

  private groupsFor(eventName: string): ConsumerGroup[] {
    let groups = this.groupsByEvent.get(eventName)
    if (!groups) {
      groups = [...this.groups.values()].filter((group) => group.matches(eventName))
      this.groupsByEvent.set(eventName, groups)
    }
    return groups
  }

  private deliver(group: ConsumerGroup, pending: PendingEvent): void {
    if (group.receivers.length === 0) {
      if (group.spec.delivery === 'durable') group.backlog.push(pending)
      return
    }
    const receiver = group.receivers[group.next++ % group.receivers.length]!
    const delivery: Unsettled | undefined =
      group.spec.delivery === 'durable' ? { group, pending, handedOver: false } : undefined
    if (delivery) {
      const held = this.unsettled.get(receiver) ?? new Set<Unsettled>()
      this.unsettled.set(receiver, held.add(delivery))
    }
    // Settled from the receiver's own promise: no async wrapper, no promise adopted per event.
    RESOLVED.then(() => {
      receiver(pending.raw, { attempt: pending.attempt }).then((outcome) =>
        this.settle(group, receiver, pending, delivery, outcome),
      )
    })
  }

  private settle(
    group: ConsumerGroup,
    receiver: EventReceiver,
    pending: PendingEvent,
    delivery: Unsettled | undefined,
    outcome: DeliveryOutcome,
  ): void {
    if (delivery) {
      if (delivery.handedOver) return
      this.unsettled.get(receiver)?.delete(delivery)
    }
    if (outcome.action === 'retry') {
      const timer = setTimeout(() => {
        this.retryTimers.delete(timer)
        this.deliver(group, { raw: pending.raw, attempt: pending.attempt + 1 })
      }, outcome.delayMs)
      this.retryTimers.add(timer)
    } else if (outcome.action === 'dead-letter') {
      group.deadLetters.push(outcome.record.message)
    }
  }
}
