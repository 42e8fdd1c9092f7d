import type { Span } from '@opentelemetry/api'
import type { z } from 'zod'
import { consumerGroupOf } from '../definitions/naming.js'
import type {
  AnyCommandDefinition,
  AnyEventDefinition,
  AnySubscriptionDefinition,
} from '../definitions/types.js'
import { commandAddressKey, type Envelope, type Sender } from '../envelope/envelope.js'
import { BridgeUnavailableError, ConduitError, TimeoutError } from '../errors/errors.js'
import { isWildcardPattern } from '../names.js'
import { createDefaultLogger, type Logger } from '../observability/logging.js'
import { type Instruments, RuntimeInstruments, secondsSince, withOutcome } from '../observability/metrics.js'
import { isTracingActive, NOOP_SPAN, outgoingTraceparent, recordSpanError } from '../observability/tracing.js'
import { parseValue } from '../service/validation.js'
import {
  assertCapabilities,
  type BridgeCapabilities,
  type CapabilityName,
} from '../transport/capabilities.js'
import type {
  CommandAddress,
  CommandReceiver,
  DestinationTarget,
  Transport,
  TransportHost,
} from '../transport/port.js'
import { SENT } from '../transport/sent.js'
import { commandEnvelope, decodeInbound, eventEnvelope, newId } from './envelopes.js'
import { InFlight } from './InFlight.js'
import { logicalName, MessagingSpans } from './spans.js'

export type {
  EmitOptions,
  EventBridgeOptions,
  InvokeOptions,
  MessageOrigin,
  Registration,
  SubscriptionRegistration,
} from './options.js'

import { createEventReceiver } from './eventReceivers.js'
import { LocalRegistrations } from './LocalRegistrations.js'
import type { LocalCommandHandler, LocalEventHandler, LocalRoute } from './LocalRoute.js'
import { runLocalCommand } from './localCommands.js'
import {
  addressOf,
  type EmitOptions,
  type EventBridgeOptions,
  type InvokeOptions,
  type MessageOrigin,
  type Registration,
  type SubscriptionRegistration,
} from './options.js'
import { Outbound } from './outbound.js'
import { PendingInvocations } from './PendingInvocations.js'
import {
  type CommandExecutor,
  createCommandReceiver,
  type EventExecutor,
  type ReceiverEnvironment,
} from './receivers.js'
import { failWaitingCalls, receiveReply } from './replies.js'

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
  /** publishes waiting for a broker confirmation the transport receives (see TransportHost.awaitConfirmation) */
  private readonly confirmations = new PendingInvocations()
  private readonly registrations: LocalRegistrations
  /** the local route behind each command receiver this bridge made, for the in-process fast lane */
  private readonly localCommandRoutes = new WeakMap<CommandReceiver, LocalRoute<LocalCommandHandler>>()
  /** event definitions known to this bridge by name, so `emit('name', ...)` validates like `emit(definition, ...)` */
  private readonly knownEvents = new Map<string, AnyEventDefinition>()
  private readonly instruments: RuntimeInstruments
  private readonly spans: MessagingSpans
  private readonly defaultTimeout: number
  private readonly drainTimeout: number
  private readonly environment: ReceiverEnvironment
  private readonly clientSender: Sender
  private readonly encodes: boolean
  private state: State = 'created'

  constructor(transport: T, options: EventBridgeOptions = {}) {
    this.transport = transport
    this.instanceId = options.instanceId ?? newId()
    this.logger = (options.logger ?? createDefaultLogger()).child({
      bridge: transport.name,
      instanceId: this.instanceId,
    })
    this.defaultTimeout = options.defaultTimeout ?? 30_000
    this.drainTimeout = options.drainTimeout ?? 10_000
    this.spans = new MessagingSpans(transport)
    this.instruments = new RuntimeInstruments({
      attributes: this.spans.bridgeAttributes,
      pendingInvocations: () => this.pending.size,
      isReady: () => this.isReady(),
      isHealthy: () => this.isHealthy(),
    })
    this.clientSender = Object.freeze({ instanceId: this.instanceId })
    this.registrations = new LocalRegistrations(this.logger, this.drainTimeout, (action, error) =>
      this.reportFailure(action, error),
    )
    this.encodes = transport.carries !== 'envelopes'
    const initialMs = options.retryBackoff?.initialMs ?? 200
    const maxMs = options.retryBackoff?.maxMs ?? 30_000
    this.environment = {
      bridgeName: transport.name,
      logger: this.logger,
      instruments: this.instruments,
      spans: this.spans,
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

  /**
   * The broker's own name for where a command or event goes on this bridge (a NATS subject, a
   * RabbitMQ queue or `<exchange>:<routing key>`, an MQTT topic), or the logical name where the
   * bridge has no other. Needs no connection: contract generators (AsyncAPI) use it.
   */
  destinationName(target: DestinationTarget): string {
    return this.transport.destinationName?.(target) ?? logicalName(target)
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
      receiveReply: (raw) => receiveReply(this.pending, this.logger, raw),
      failCall: (commandId, error) => {
        this.pending.reject(commandId, error)
      },
      awaitConfirmation: (token, timeoutMs, onTimeout) =>
        this.confirmations.wait(token, timeoutMs, onTimeout),
      settleConfirmation: (token, error) => {
        if (error === undefined) this.confirmations.resolve(token, undefined)
        else this.confirmations.reject(token, error)
      },
      repliesLost: (reason) => failWaitingCalls(this.pending, this.logger, this.name, reason),
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
    await this.registrations.closeAll(deadline)
    this.pending.rejectAll(
      () => new BridgeUnavailableError(`${this.name} stopped before the response arrived`),
    )
    try {
      await this.transport.disconnect()
    } catch (error) {
      this.reportFailure('disconnect', error)
    }
    this.confirmations.rejectAll(
      () => new BridgeUnavailableError(`${this.name} stopped before the broker confirmed the publish`),
    )
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
    const id = newId()
    // a call that starts a conversation names it after itself (one id made, not two)
    const correlationId = options.correlationId ?? id
    const envelope = commandEnvelope(id, address, payload, correlationId, now, deadline, options)
    const span = isTracingActive()
      ? this.spans.send({ kind: 'command', address }, envelope, options)
      : NOOP_SPAN
    envelope.traceparent = outgoingTraceparent(span, options)
    envelope.sender = this.senderOf(options)
    const instruments = this.instruments.current()
    if (span === NOOP_SPAN && instruments === undefined) {
      const local = this.soleLocalRoute(address)
      if (local !== undefined) {
        const waiter = this.pending.open(
          envelope.id,
          this.timeoutError(address, correlationId, now, deadline),
          deadline,
        )
        runLocalCommand(local, envelope, address, this.pending, waiter, this.logger)
        return waiter.promise
      }
    }
    const outbound = new Outbound(envelope, this.transport.capabilities.maxPayloadBytes, this.name)
    if (this.encodes) {
      try {
        void outbound.bytes // too large: fail here, before anything waits
      } catch (error) {
        recordSpanError(span, error)
        span.end()
        return Promise.reject(error)
      }
    }
    const response = this.waitForReply(envelope.id, address, correlationId, now, deadline)
    try {
      const sent = this.transport.sendCommand(address, outbound)
      if (sent !== SENT) sent.catch((error) => this.pending.reject(envelope.id, error))
    } catch (error) {
      // A transport that throws instead of rejecting: the waiting call fails with it (and is
      // returned below, so no rejection goes unhandled).
      this.pending.reject(envelope.id, error)
    }
    if (!span.isRecording() && instruments === undefined) return response
    return this.observed(response, span, address, instruments)
  }

  // Replies are matched by the command's own id, so callers may reuse correlation ids freely.
  private waitForReply(
    id: string,
    address: CommandAddress,
    correlationId: string,
    now: number,
    deadline: number,
  ): Promise<unknown> {
    // the envelope's deadline: a reply the handler sent at its deadline is late here too
    return this.pending.wait(
      id,
      deadline - now,
      this.timeoutError(address, correlationId, now, deadline),
      deadline,
    )
  }

  private timeoutError(address: CommandAddress, correlationId: string, now: number, deadline: number) {
    return () =>
      new TimeoutError(`${commandAddressKey(address)} did not answer within ${deadline - now} ms`, {
        correlationId,
      })
  }

  /** This bridge's own route for `address`, when an in-process transport would bring every call there. */
  private soleLocalRoute(address: CommandAddress): LocalRoute<LocalCommandHandler> | undefined {
    const receiver = this.transport.soleOwnReceiver?.(address)
    return receiver === undefined ? undefined : this.localCommandRoutes.get(receiver)
  }

  private async observed(
    response: Promise<unknown>,
    span: Span,
    address: CommandAddress,
    instruments: Instruments | undefined,
  ) {
    const started = performance.now()
    let failure: unknown
    try {
      return await response
    } catch (error) {
      failure = error
      recordSpanError(span, error)
      throw error
    } finally {
      span.end()
      if (instruments) {
        const attributes = withOutcome(
          this.spans.metricAttributes({ kind: 'command', address }, 'send'),
          failure,
        )
        instruments.clientDuration.record(secondsSince(started), attributes)
        if (failure instanceof TimeoutError) instruments.timeouts.add(1, attributes)
      }
    }
  }

  private senderOf(options: MessageOrigin): Sender {
    return options.sender ? { ...options.sender, instanceId: this.instanceId } : this.clientSender
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
    const envelope = eventEnvelope(eventName, payload, options)
    const span = isTracingActive()
      ? this.spans.send({ kind: 'event', eventName }, envelope, options)
      : NOOP_SPAN
    envelope.traceparent = outgoingTraceparent(span, options)
    envelope.sender = this.senderOf(options)
    const outbound = new Outbound(envelope, this.transport.capabilities.maxPayloadBytes, this.name)
    const instruments = this.instruments.current()
    const started = instruments ? performance.now() : 0
    let failure: unknown
    try {
      if (this.transport.carries === 'cloudevents') void outbound.cloudEventBytes
      else if (this.encodes) void outbound.bytes
      const sent = this.transport.publishEvent(outbound)
      if (sent !== SENT) await sent // handed over in process: nothing to wait for
    } catch (error) {
      failure = error
      recordSpanError(span, error)
      throw error
    } finally {
      span.end()
      if (instruments) {
        const attributes = this.spans.metricAttributes({ kind: 'event', eventName }, 'send')
        instruments.clientDuration.record(secondsSince(started), withOutcome(attributes, failure))
      }
    }
  }

  /**
   * Serves a command on this bridge. Used by ServiceInstance; the executor runs the pipeline.
   * Several registrations of one address share one transport listener, taking turns.
   */
  async registerCommand(
    address: CommandAddress,
    sender: Sender,
    execute: CommandExecutor,
  ): Promise<Registration> {
    this.assertRunning()
    const key = commandAddressKey(address)
    const handler: LocalCommandHandler = { sender, execute, inFlight: new InFlight() }
    return this.registrations.join(`command ${key}`, handler, (route) => {
      const receiver = createCommandReceiver(this.environment, address, route)
      this.localCommandRoutes.set(receiver, route)
      return this.transport.listenCommands(address, receiver)
    })
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
    return this.registrations.join(`group ${spec.group}`, handler, (route) =>
      this.transport.listenEvents(spec, createEventReceiver(this.environment, spec, route)),
    )
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

  private reportFailure(action: string, error: unknown, context: Record<string, unknown> = {}): void {
    this.logger.error({ ...context, err: error, action }, `could not ${action}`)
    this.instruments
      .current()
      ?.messagingFailures.add(1, { ...this.spans.bridgeAttributes, 'conduit.action': action })
  }

  private assertRunning(): void {
    if (this.state !== 'running') {
      throw new BridgeUnavailableError(
        `${this.name} is ${this.state === 'created' ? 'not started' : this.state}`,
      )
    }
  }
}
