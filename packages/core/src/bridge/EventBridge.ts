import type { Span } from '@opentelemetry/api'
import type { z } from 'zod'
import { consumerGroupOf } from '../definitions/naming.js'
import type {
  AnyCommandDefinition,
  AnyEventDefinition,
  AnySubscriptionDefinition,
  CallOptions,
  SubscriptionFilter,
} from '../definitions/types.js'
import {
  commandAddressKey,
  type Envelope,
  JSON_CONTENT_TYPE,
  type Sender,
  SPEC_VERSION,
} from '../envelope/envelope.js'
import { BridgeUnavailableError, ConduitError, TimeoutError } from '../errors/errors.js'
import { errorFromWire, isWireError } from '../errors/wire.js'
import { createDefaultLogger, type Logger } from '../observability/logging.js'
import { createRuntimeInstruments, type RuntimeInstruments } from '../observability/metrics.js'
import {
  isTracingActive,
  NOOP_SPAN,
  outgoingTraceparent,
  recordSpanError,
  SpanKind,
  startSpan,
  type TraceCarrier,
} from '../observability/tracing.js'
import { isWildcardPattern } from '../names.js'
import { parseValue } from '../service/validation.js'
import { assertCapabilities, type BridgeCapabilities, type CapabilityName } from '../transport/capabilities.js'
import type {
  CommandAddress,
  EventListenerSpec,
  RawMessage,
  Transport,
  TransportHost,
  TransportListener,
} from '../transport/port.js'
import { SENT } from '../transport/sent.js'
import { decodeInbound, newId } from './envelopes.js'
import { InFlight } from './InFlight.js'
import { type LocalCommandHandler, type LocalEventHandler, LocalRoute } from './LocalRoute.js'
import { Outbound } from './outbound.js'
import { PendingInvocations } from './PendingInvocations.js'
import {
  type CommandExecutor,
  createCommandReceiver,
  createEventReceiver,
  type EventExecutor,
  type ReceiverEnvironment,
} from './receivers.js'

export interface EventBridgeOptions {
  logger?: Logger
  /** unique id of this bridge instance (default: random) */
  instanceId?: string
  /** command timeout when neither the definition nor the call sets one; default 30 s */
  defaultTimeout?: number
  /** how long stop() waits for handlers in flight; default 10 s */
  drainTimeout?: number
  /** durable redelivery delay: initialMs * 2^(attempt-1), capped at maxMs; default 200 ms / 30 s */
  retryBackoff?: { initialMs?: number; maxMs?: number }
}

/** Who a message comes from and what it continues (trace, principal, deadline). */
export interface MessageOrigin {
  sender?: Omit<Sender, 'instanceId'>
  principalId?: string | undefined
  tenantId?: string | undefined
  traceparent?: string | undefined
  tracestate?: string | undefined
  /** a child call never outlives its parent's deadline */
  deadline?: number | undefined
  correlationId?: string | undefined
}

export interface InvokeOptions extends CallOptions, MessageOrigin {
  parameter?: Record<string, unknown>
}

export type EmitOptions = MessageOrigin & { headers?: Record<string, string> }

export interface Registration {
  /** Stop taking messages and wait (bounded) for the ones in flight. */
  close(): Promise<void>
}

export interface SubscriptionRegistration extends EventListenerSpec {
  filter: SubscriptionFilter
  /** human name for logs and errors, e.g. `email.v1.sendWelcomeMail` */
  subject: string
}

const addresses = new WeakMap<AnyCommandDefinition, CommandAddress>()
function addressOf(command: AnyCommandDefinition): CommandAddress {
  let address = addresses.get(command)
  if (!address) {
    address = Object.freeze({
      service: command.service.name,
      version: command.service.version,
      command: command.name,
    })
    addresses.set(command, address)
  }
  return address
}

type State = 'created' | 'starting' | 'running' | 'stopping' | 'stopped'

/**
 * The protocol engine over one transport: correlation, deadlines, encoding and decoding, local
 * routing, draining, tracing, error mapping and the poison policy, once for every bridge.
 * Bridges subclass it only to pick their transport, typed as `T` so they reach it without a cast.
 */
export class EventBridge<T extends Transport = Transport> {
  readonly instanceId: string
  readonly logger: Logger
  protected readonly transport: T
  private readonly pending = new PendingInvocations()
  private readonly registrations = new Set<TrackedRegistration>()
  private readonly commandRoutes = new Map<string, LocalRoute<LocalCommandHandler>>()
  private readonly eventRoutes = new Map<string, LocalRoute<LocalEventHandler>>()
  /** event definitions known to this bridge by name, so `emit('name', ...)` validates like `emit(definition, ...)` */
  private readonly knownEvents = new Map<string, AnyEventDefinition>()
  private readonly instruments: RuntimeInstruments
  private readonly defaultTimeout: number
  private readonly drainTimeout: number
  private readonly environment: ReceiverEnvironment
  private readonly clientSender: Sender
  private readonly encodes: boolean
  private state: State = 'created'

  constructor(transport: T, options: EventBridgeOptions = {}) {
    this.transport = transport
    this.instanceId = options.instanceId ?? newId()
    this.logger = (options.logger ?? createDefaultLogger()).child({ bridge: transport.name })
    this.defaultTimeout = options.defaultTimeout ?? 30_000
    this.drainTimeout = options.drainTimeout ?? 10_000
    this.instruments = createRuntimeInstruments()
    this.clientSender = Object.freeze({ instanceId: this.instanceId })
    this.encodes = transport.carries !== 'envelopes'
    const initialMs = options.retryBackoff?.initialMs ?? 200
    const maxMs = options.retryBackoff?.maxMs ?? 30_000
    this.environment = {
      bridgeName: transport.name,
      logger: this.logger,
      instruments: this.instruments,
      maxPayloadBytes: () => this.transport.capabilities.maxPayloadBytes,
      encodes: this.encodes,
      sender: this.clientSender,
      backoff: (attempt) => Math.min(maxMs, initialMs * 2 ** (attempt - 1)),
      reportFailure: (action, error, context) => this.reportFailure(action, error, context),
    }
  }

  get name(): string {
    return this.transport.name
  }

  get capabilities(): BridgeCapabilities {
    return this.transport.capabilities
  }

  /** Number of invocations awaiting a response (for leak checks and health pages). */
  get pendingInvocations(): number {
    return this.pending.size
  }

  isReady(): boolean {
    return this.state === 'running' && this.transport.isReady()
  }

  isHealthy(): boolean {
    return (this.state === 'running' || this.state === 'starting') && this.transport.isHealthy()
  }

  async start(): Promise<void> {
    if (this.state !== 'created')
      throw new ConduitError(500, 'INVALID_STATE', `${this.name} was already started`, false)
    this.state = 'starting'
    const host: TransportHost = {
      instanceId: this.instanceId,
      logger: this.logger,
      receiveReply: (raw) => this.receiveReply(raw),
      failCall: (commandId, error) => {
        this.pending.reject(commandId, error)
      },
      repliesLost: (reason) => this.repliesLost(reason),
      reportFailure: (action, error, context) => this.reportFailure(action, error, context),
    }
    try {
      await this.transport.connect(host)
    } catch (error) {
      this.state = 'created'
      throw error
    }
    this.state = 'running'
  }

  /**
   * Stops taking messages, waits for handlers in flight (one bound for all of them: the drain
   * timeout), fails pending calls, disconnects.
   */
  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return
    this.state = 'stopping'
    const deadline = Date.now() + this.drainTimeout
    await Promise.allSettled([...this.registrations].map((registration) => registration.closeBy(deadline)))
    this.pending.rejectAll(() => new BridgeUnavailableError(`${this.name} stopped before the response arrived`))
    try {
      await this.transport.disconnect()
    } catch (error) {
      this.reportFailure('disconnect', error)
    }
    this.state = 'stopped'
  }

  /** Invokes a command and resolves with its output. */
  invoke<C extends AnyCommandDefinition>(
    command: C,
    input: z.input<C['input']>,
    options: InvokeOptions = {},
  ): Promise<z.output<C['output']>> {
    const timeout = options.timeout ?? command.timeout
    return this.invokeAddress(
      addressOf(command),
      input,
      timeout === undefined || options.timeout !== undefined ? options : { ...options, timeout },
    ) as Promise<z.output<C['output']>>
  }

  /** Invokes by address, for callers that hold no definition (gateways, tools). */
  invokeAddress(address: CommandAddress, payload: unknown, options: InvokeOptions = {}): Promise<unknown> {
    if (this.state !== 'running') {
      try {
        this.assertRunning()
      } catch (error) {
        return Promise.reject(error)
      }
    }
    const now = Date.now()
    let deadline = now + (options.timeout ?? this.defaultTimeout)
    if (options.deadline !== undefined && options.deadline < deadline) deadline = options.deadline
    const correlationId = options.correlationId ?? newId()
    const span = isTracingActive() ? this.commandSpan(address, options) : NOOP_SPAN
    const envelope: Envelope = {
      id: newId(),
      type: 'command',
      specVersion: SPEC_VERSION,
      time: now,
      correlationId,
      traceparent: outgoingTraceparent(span, options),
      sender: options.sender ? { ...options.sender, instanceId: this.instanceId } : this.clientSender,
      receiver: address,
      deadline,
      contentType: JSON_CONTENT_TYPE,
      payload,
    }
    if (options.tracestate !== undefined) envelope.tracestate = options.tracestate
    if (options.principalId !== undefined) envelope.principalId = options.principalId
    if (options.tenantId !== undefined) envelope.tenantId = options.tenantId
    if (options.parameter !== undefined) envelope.parameter = options.parameter
    if (options.headers !== undefined) envelope.headers = options.headers
    const outbound = new Outbound(envelope, this.transport.capabilities.maxPayloadBytes, this.name)
    let sent: Promise<void>
    try {
      if (this.encodes) void outbound.bytes // too large: fail here, before anything waits
      // Replies are matched by the command's own id, so callers may reuse correlation ids freely.
      const response = this.pending.wait(
        envelope.id,
        deadline - now,
        () =>
          new TimeoutError(`${commandAddressKey(address)} did not answer within ${deadline - now} ms`, {
            correlationId,
          }),
      )
      sent = this.transport.sendCommand(address, outbound)
      if (sent !== SENT) sent.catch((error) => this.pending.reject(envelope.id, error))
      if (!span.isRecording() && !this.instruments.active) return response
      return this.observed(response, span, address, now)
    } catch (error) {
      this.pending.reject(envelope.id, error)
      recordSpanError(span, error)
      span.end()
      return Promise.reject(error)
    }
  }

  private async observed(response: Promise<unknown>, span: Span, address: CommandAddress, now: number) {
    try {
      return await response
    } catch (error) {
      recordSpanError(span, error)
      throw error
    } finally {
      span.end()
      this.instruments.invokeDuration.record(Date.now() - now, {
        'conduit.command': commandAddressKey(address),
      })
    }
  }

  private commandSpan(address: CommandAddress, parent: TraceCarrier) {
    const key = commandAddressKey(address)
    return startSpan(
      `send ${key}`,
      SpanKind.CLIENT,
      {
        'messaging.system': this.name,
        'messaging.operation.type': 'send',
        'messaging.destination.name': key,
      },
      parent,
    )
  }

  /**
   * Makes event definitions known by name, so that `emit('name', payload)` validates the payload
   * exactly as `emit(definition, payload)` does. Service instances declare what they emit.
   */
  declareEvents(events: Iterable<AnyEventDefinition>): void {
    for (const event of events) this.knownEvents.set(event.name, event)
  }

  /**
   * Emits an event and resolves once the transport accepted it. The sender validates whenever it
   * knows the event's definition (passed here, or declared by a service on this bridge): a bad
   * payload fails at the emitter, not at every subscriber. Subscribers validate what they receive.
   */
  async emit(event: string | AnyEventDefinition, payload: unknown, options: EmitOptions = {}): Promise<void> {
    this.assertRunning()
    const definition = typeof event === 'string' ? this.knownEvents.get(event) : event
    const eventName = typeof event === 'string' ? event : event.name
    if (definition !== undefined) {
      payload = parseValue(definition.schema, payload, 'event', eventName)
      if (payload instanceof Promise) payload = await payload
    }
    const span = isTracingActive() ? this.publishSpan(eventName, options) : NOOP_SPAN
    const envelope: Envelope = {
      id: newId(),
      type: 'event',
      specVersion: SPEC_VERSION,
      time: Date.now(),
      correlationId: options.correlationId ?? newId(),
      traceparent: outgoingTraceparent(span, options),
      sender: options.sender ? { ...options.sender, instanceId: this.instanceId } : this.clientSender,
      eventName,
      contentType: JSON_CONTENT_TYPE,
      payload,
    }
    if (options.tracestate !== undefined) envelope.tracestate = options.tracestate
    if (options.principalId !== undefined) envelope.principalId = options.principalId
    if (options.tenantId !== undefined) envelope.tenantId = options.tenantId
    if (options.headers !== undefined) envelope.headers = options.headers
    const outbound = new Outbound(envelope, this.transport.capabilities.maxPayloadBytes, this.name)
    try {
      if (this.encodes) void outbound.bytes
      await this.transport.publishEvent(outbound)
    } catch (error) {
      recordSpanError(span, error)
      throw error
    } finally {
      span.end()
    }
  }

  private publishSpan(eventName: string, parent: TraceCarrier) {
    return startSpan(
      `publish ${eventName}`,
      SpanKind.PRODUCER,
      {
        'messaging.system': this.name,
        'messaging.operation.type': 'publish',
        'messaging.destination.name': eventName,
      },
      parent,
    )
  }

  /**
   * Serves a command on this bridge. Used by ServiceInstance; the executor runs the pipeline.
   * Several registrations of one address share one transport listener, taking turns.
   */
  async registerCommand(address: CommandAddress, sender: Sender, execute: CommandExecutor): Promise<Registration> {
    this.assertRunning()
    const key = commandAddressKey(address)
    const handler: LocalCommandHandler = { sender, execute, inFlight: new InFlight() }
    return this.joinRoute(this.commandRoutes, key, handler, (route) =>
      this.transport.listenCommands(address, createCommandReceiver(this.environment, key, route)),
    )
  }

  /**
   * Consumes events for one subscription (consumer group). Refuses, naming the gap, a
   * subscription the bridge cannot serve, whoever registers it (services, gateways' streams).
   */
  async registerSubscription(spec: SubscriptionRegistration, execute: EventExecutor): Promise<Registration> {
    this.assertRunning()
    const needs: CapabilityName[] = []
    if (spec.delivery === 'durable') needs.push('durable')
    if (spec.everyInstance) needs.push('everyInstance')
    if (isWildcardPattern(spec.eventPattern)) needs.push('wildcards')
    assertCapabilities(this.name, this.capabilities, spec.subject, needs)
    const handler: LocalEventHandler = { execute, inFlight: new InFlight() }
    return this.joinRoute(this.eventRoutes, spec.group, handler, (route) =>
      this.transport.listenEvents(spec, createEventReceiver(this.environment, spec, route)),
    )
  }

  private async joinRoute<H extends LocalCommandHandler | LocalEventHandler>(
    routes: Map<string, LocalRoute<H>>,
    key: string,
    handler: H,
    listen: (route: LocalRoute<H>) => Promise<TransportListener>,
  ): Promise<Registration> {
    let route = routes.get(key)
    if (route === undefined) {
      const created = new LocalRoute<H>()
      route = created
      routes.set(key, created)
      created.opening = listen(created).then((listener) => {
        created.listener = listener
      })
      created.opening.catch(() => {
        if (routes.get(key) === created) routes.delete(key)
      })
    }
    await route.opening
    route.add(handler)
    return this.track(routes, key, route, handler)
  }

  private track<H extends LocalCommandHandler | LocalEventHandler>(
    routes: Map<string, LocalRoute<H>>,
    key: string,
    route: LocalRoute<H>,
    handler: H,
  ): Registration {
    let closing: Promise<void> | undefined
    const registration: TrackedRegistration = {
      close: () => registration.closeBy(Date.now() + this.drainTimeout),
      closeBy: (deadline) => {
        closing ??= (async () => {
          this.registrations.delete(registration)
          route.remove(handler)
          const last = route.isEmpty
          if (last && routes.get(key) === route) routes.delete(key)
          // One drain: the listener stops taking messages, the ones in flight finish, then it closes.
          if (last) await this.settleListener('pause a listener', route.listener?.pause())
          if (!(await handler.inFlight.waitForDrain(Math.max(0, deadline - Date.now())))) {
            this.logger.warn({ inFlight: handler.inFlight.size, route: key }, 'handlers still running after the drain timeout')
          }
          if (last) await this.settleListener('close a listener', route.listener?.close())
        })()
        return closing
      },
    }
    this.registrations.add(registration)
    return registration
  }

  private async settleListener(action: string, step: Promise<void> | undefined): Promise<void> {
    try {
      await step
    } catch (error) {
      this.reportFailure(action, error)
    }
  }

  /** Reads what a durable subscription dead-lettered (bridges with deadLetterInspection). */
  async readDeadLetters(subscription: AnySubscriptionDefinition | string): Promise<Envelope[]> {
    const group = typeof subscription === 'string' ? subscription : consumerGroupOf(subscription)
    if (!this.transport.readDeadLetters || !this.capabilities.deadLetterInspection.supported) {
      throw new ConduitError(501, 'NOT_SUPPORTED', `${this.name} cannot read dead letters back`, false)
    }
    const raws = await this.transport.readDeadLetters(group)
    return raws.flatMap((raw) => {
      try {
        return [decodeInbound(raw)]
      } catch {
        return [] // a malformed message (or a stub for one too large) has no envelope to show
      }
    })
  }

  private receiveReply(raw: RawMessage): void {
    let message: Envelope
    try {
      message = decodeInbound(raw)
    } catch (error) {
      this.logger.warn({ reason: (error as Error).message }, 'dropped malformed reply')
      return
    }
    const key = message.inReplyTo
    if (key === undefined) {
      this.logger.warn({ correlationId: message.correlationId }, 'dropped reply without inReplyTo')
      return
    }
    let matched: boolean
    if (message.type === 'response') {
      matched = this.pending.resolve(key, message.payload)
    } else if (message.type === 'error' && isWireError(message.payload)) {
      matched = this.pending.reject(key, errorFromWire(message.payload))
    } else {
      this.logger.warn({ type: message.type, correlationId: message.correlationId }, 'dropped unexpected reply')
      return
    }
    if (!matched) {
      this.logger.debug({ inReplyTo: key, correlationId: message.correlationId }, 'dropped reply nobody waits for (late, or not ours)')
    }
  }

  private repliesLost(reason: string): void {
    const waiting = this.pending.size
    if (waiting === 0) return
    this.logger.warn({ pending: waiting, reason }, 'replies can no longer arrive; failing the calls waiting for them')
    this.pending.rejectAll(
      () =>
        new BridgeUnavailableError(
          `${this.name}: ${reason} while waiting for the reply; the outcome is unknown (the command may or may not have run)`,
        ),
    )
  }

  private reportFailure(action: string, error: unknown, context: Record<string, unknown> = {}): void {
    this.logger.error({ ...context, err: error, action }, `could not ${action}`)
    this.instruments.messagingFailures.add(1, { 'conduit.action': action })
  }

  private assertRunning(): void {
    if (this.state !== 'running') {
      throw new BridgeUnavailableError(
        `${this.name} is ${this.state === 'created' ? 'not started' : this.state}`,
      )
    }
  }
}

interface TrackedRegistration extends Registration {
  /** close, draining until `deadline` (epoch ms) at most */
  closeBy(deadline: number): Promise<void>
}
