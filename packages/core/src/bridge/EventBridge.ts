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
import { BridgeUnavailableError, ConduitError, TimeoutError, ValidationError } from '../errors/errors.js'
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
import { toValidationIssues } from '../service/validation.js'
import type { BridgeCapabilities } from '../transport/capabilities.js'
import type {
  CommandAddress,
  EventListenerSpec,
  RawMessage,
  Transport,
  TransportListener,
} from '../transport/port.js'
import { SENT } from '../transport/sent.js'
import { decodeInbound, newId } from './envelopes.js'
import { InFlight } from './InFlight.js'
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
 * The protocol engine over one transport: correlation, deadlines, envelopes, tracing and error
 * mapping, once for every bridge. Bridges subclass it only to pick their transport.
 */
export class EventBridge {
  readonly instanceId: string
  readonly logger: Logger
  protected readonly transport: Transport
  private readonly pending = new PendingInvocations()
  private readonly inFlight = new InFlight()
  private readonly registrations = new Set<Registration>()
  private readonly instruments: RuntimeInstruments
  private readonly defaultTimeout: number
  private readonly drainTimeout: number
  private readonly environment: ReceiverEnvironment
  private readonly clientSender: Sender
  private state: State = 'created'

  constructor(transport: Transport, options: EventBridgeOptions = {}) {
    this.transport = transport
    this.instanceId = options.instanceId ?? newId()
    this.logger = (options.logger ?? createDefaultLogger()).child({ bridge: transport.name })
    this.defaultTimeout = options.defaultTimeout ?? 30_000
    this.drainTimeout = options.drainTimeout ?? 10_000
    this.instruments = createRuntimeInstruments()
    this.clientSender = Object.freeze({ instanceId: this.instanceId })
    const initialMs = options.retryBackoff?.initialMs ?? 200
    const maxMs = options.retryBackoff?.maxMs ?? 30_000
    this.environment = {
      bridgeName: transport.name,
      logger: this.logger,
      instruments: this.instruments,
      inFlight: this.inFlight,
      backoff: (attempt) => Math.min(maxMs, initialMs * 2 ** (attempt - 1)),
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
    await this.transport.connect({
      instanceId: this.instanceId,
      logger: this.logger,
      receiveReply: (raw) => this.receiveReply(raw),
    })
    this.state = 'running'
  }

  /** Stops taking messages, waits for handlers in flight (bounded), fails pending calls, disconnects. */
  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return
    this.state = 'stopping'
    await Promise.allSettled([...this.registrations].map((registration) => registration.close()))
    if (!(await this.inFlight.waitForDrain(this.drainTimeout))) {
      this.logger.warn(
        { inFlight: this.inFlight.size },
        'stop: handlers still running after the drain timeout',
      )
    }
    this.pending.rejectAll(
      () => new BridgeUnavailableError(`${this.name} stopped before the response arrived`),
    )
    await this.transport.disconnect()
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
    // Replies are matched by the command's own id, so callers may reuse correlation ids freely.
    const response = this.pending.wait(
      envelope.id,
      deadline - now,
      () =>
        new TimeoutError(`${commandAddressKey(address)} did not answer within ${deadline - now} ms`, {
          correlationId,
        }),
    )
    const sent = this.transport.sendCommand(address, envelope)
    if (sent !== SENT) sent.catch((error) => this.pending.reject(envelope.id, error))
    if (!span.isRecording() && !this.instruments.active) return response
    return this.observed(response, span, address, now)
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

  /** Emits an event. With a definition the payload is validated first. Resolves once the transport accepted it. */
  async emit(event: string | AnyEventDefinition, payload: unknown, options: EmitOptions = {}): Promise<void> {
    this.assertRunning()
    let eventName: string
    if (typeof event === 'string') {
      eventName = event
    } else {
      eventName = event.name
      const result = event.schema.safeParse(payload)
      if (!result.success) throw new ValidationError('event', toValidationIssues(result.error), eventName)
      payload = result.data
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
    if (span === NOOP_SPAN) return this.transport.publishEvent(envelope)
    try {
      await this.transport.publishEvent(envelope)
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

  /** Serves a command on this bridge. Used by ServiceInstance; the executor runs the pipeline. */
  async registerCommand(
    address: CommandAddress,
    sender: Sender,
    execute: CommandExecutor,
  ): Promise<Registration> {
    this.assertRunning()
    const inFlight = new InFlight()
    const listener = await this.transport.listenCommands(
      address,
      createCommandReceiver(this.environment, commandAddressKey(address), sender, execute, inFlight),
    )
    return this.track(listener, inFlight)
  }

  /** Consumes events for one subscription (consumer group). */
  async registerSubscription(spec: SubscriptionRegistration, execute: EventExecutor): Promise<Registration> {
    this.assertRunning()
    const inFlight = new InFlight()
    const listener = await this.transport.listenEvents(
      spec,
      createEventReceiver(this.environment, spec, execute, inFlight),
    )
    return this.track(listener, inFlight)
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
        return [] // a malformed message was dead-lettered as-is; it has no envelope to show
      }
    })
  }

  private track(listener: TransportListener, inFlight: InFlight): Registration {
    let closing: Promise<void> | undefined
    const registration: Registration = {
      close: () => {
        closing ??= (async () => {
          this.registrations.delete(registration)
          await listener.close()
          if (!(await inFlight.waitForDrain(this.drainTimeout))) {
            this.logger.warn({ inFlight: inFlight.size }, 'handlers still running after the drain timeout')
          }
        })()
        return closing
      },
    }
    this.registrations.add(registration)
    return registration
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
    if (message.type === 'response') {
      this.pending.resolve(key, message.payload)
    } else if (message.type === 'error' && isWireError(message.payload)) {
      this.pending.reject(key, errorFromWire(message.payload))
    } else {
      this.logger.warn(
        { type: message.type, correlationId: message.correlationId },
        'dropped unexpected reply',
      )
    }
  }

  private assertRunning(): void {
    if (this.state !== 'running') {
      throw new BridgeUnavailableError(
        `${this.name} is ${this.state === 'created' ? 'not started' : this.state}`,
      )
    }
  }
}
