import { type Attributes, type Span, trace } from '@opentelemetry/api'
import type { EventBridge } from '../bridge/EventBridge.js'
import type { HandlingScope } from '../bridge/receivers.js'
import type {
  AnyCommandDefinition,
  AnyEventDefinition,
  CallOptions,
  HookContext,
} from '../definitions/types.js'
import type { Envelope } from '../envelope/envelope.js'
import { ConduitError } from '../errors/errors.js'
import type { Logger } from '../observability/logging.js'
import { activeTraceparent, NOOP_SPAN, recordSpanError, traceIdOf } from '../observability/tracing.js'
import type { Stores } from '../stores/contracts.js'

/** Everything a service instance shares with the contexts of the messages it handles. */
export interface InstanceRuntime {
  readonly bridge: EventBridge
  readonly logger: Logger
  readonly stores: Stores
  readonly config: unknown
  readonly service: string
  readonly version: string
}

/** What one handler may emit and invoke, resolved once per definition at start(). */
export interface HandlerPermissions {
  readonly name: string
  readonly subject: string
  readonly emits: ReadonlyMap<string, AnyEventDefinition>
  readonly invokes: ReadonlySet<AnyCommandDefinition>
  /** subscriptions: milliseconds from pickup until `signal` fires */
  readonly timeout: number | undefined
}

const NEVER_ABORTED = new AbortController().signal

/**
 * The context handed to a handler. Created per message, so everything costly (child logger,
 * AbortSignal) is built only when the handler touches it.
 */
export class MessageContext implements HookContext {
  private cachedLogger: Logger | undefined
  private cachedSignal: AbortSignal | undefined
  private readonly startedAt: number

  constructor(
    private readonly runtime: InstanceRuntime,
    private readonly permissions: HandlerPermissions,
    private readonly scope: HandlingScope,
    readonly parameter: unknown,
    readonly attempt: number,
  ) {
    this.startedAt = permissions.timeout === undefined ? 0 : Date.now()
  }

  get message(): Envelope {
    return this.scope.message
  }

  get principalId(): string | undefined {
    return this.scope.message.principalId
  }

  get tenantId(): string | undefined {
    return this.scope.message.tenantId
  }

  get stores(): Stores {
    return this.runtime.stores
  }

  get config(): unknown {
    return this.runtime.config
  }

  get logger(): Logger {
    this.cachedLogger ??= this.runtime.logger.child({
      handler: this.permissions.name,
      correlationId: this.scope.message.correlationId,
      traceId: traceIdOf(this.scope.message.traceparent),
      // the handler's own span, so a log line points at the span it happened in
      ...(this.scope.span.isRecording() ? { spanId: this.scope.span.spanContext().spanId } : {}),
    })
    return this.cachedLogger
  }

  /** The span of this message's handling (non-recording without an OpenTelemetry SDK). */
  get span(): Span {
    return this.scope.span
  }

  /**
   * Runs `work` in a child span of the handler's (named after the service), active while it
   * runs: spans of instrumented calls inside, and messages sent from it, hang under it. The span
   * ends when `work` settles, with an error status if it throws.
   */
  startActiveSpan<T>(
    name: string,
    work: (span: Span) => T | Promise<T>,
    attributes?: Attributes,
  ): Promise<T> {
    if (this.scope.span === NOOP_SPAN) return Promise.resolve().then(() => work(NOOP_SPAN))
    const tracer = trace.getTracer(this.runtime.service, this.runtime.version)
    return tracer.startActiveSpan(name, attributes === undefined ? {} : { attributes }, async (span) => {
      try {
        return await work(span)
      } catch (error) {
        recordSpanError(span, error)
        throw error
      } finally {
        span.end()
      }
    })
  }

  get signal(): AbortSignal {
    if (this.cachedSignal) return this.cachedSignal
    const deadline =
      this.scope.message.deadline ??
      (this.permissions.timeout === undefined ? undefined : this.startedAt + this.permissions.timeout)
    this.cachedSignal =
      deadline === undefined ? NEVER_ABORTED : AbortSignal.timeout(Math.max(0, deadline - Date.now()))
    return this.cachedSignal
  }

  invoke(
    command: AnyCommandDefinition,
    input: unknown,
    options: CallOptions & { parameter?: Record<string, unknown> } = {},
  ) {
    if (!this.permissions.invokes.has(command)) {
      return Promise.reject(
        new ConduitError(
          500,
          'UNDECLARED_INVOKE',
          `${this.permissions.subject} invokes ${command.service.name}.${command.name}, which it does not declare in "invokes"`,
          false,
        ),
      )
    }
    const message = this.scope.message
    return this.runtime.bridge.invoke(command, input, {
      ...options,
      sender: { service: this.runtime.service, version: this.runtime.version, name: this.permissions.name },
      principalId: message.principalId,
      tenantId: message.tenantId,
      traceparent: activeTraceparent(this.scope.span, this.scope.traceparent),
      tracestate: message.tracestate,
      deadline: message.deadline,
      correlationId: message.correlationId,
    })
  }

  async emit(eventName: string, payload: unknown): Promise<void> {
    const definition = this.permissions.emits.get(eventName)
    if (!definition) {
      throw new ConduitError(
        500,
        'UNDECLARED_EMIT',
        `${this.permissions.subject} emits "${eventName}", which it does not declare in "emits"`,
        false,
      )
    }
    await this.emitValidated(definition, payload)
  }

  /** Publishes (the bridge validates against the definition), continuing this message's trace and correlation. */
  async emitValidated(definition: AnyEventDefinition, payload: unknown): Promise<void> {
    const message = this.scope.message
    await this.runtime.bridge.emit(definition, payload, {
      sender: { service: this.runtime.service, version: this.runtime.version, name: this.permissions.name },
      principalId: message.principalId,
      tenantId: message.tenantId,
      traceparent: activeTraceparent(this.scope.span, this.scope.traceparent),
      tracestate: message.tracestate,
      correlationId: message.correlationId,
    })
  }
}
