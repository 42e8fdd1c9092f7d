import type { Attributes, Span } from '@opentelemetry/api'
import type { z } from 'zod'
import type { Envelope } from '../envelope/envelope.js'
import type { Logger } from '../observability/logging.js'
import type { Stores } from '../stores/contracts.js'

export type Schema = z.ZodType<any, any>

export interface EventDefinition<Name extends string = string, S extends Schema = Schema> {
  readonly kind: 'event'
  readonly name: Name
  readonly schema: S
  readonly description: string | undefined
}

export type AnyEventDefinition = EventDefinition<string, Schema>

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

/** Opt-in HTTP exposure of a command, read by @conduit/http. */
export interface HttpBinding {
  method: HttpMethod
  /** Path below the gateway's version prefix, with `:name` parameters, e.g. `/users/:userId`. */
  path: string
  /** Status on success; 204 sends no body. Default 200. */
  successStatus?: 200 | 201 | 202 | 204
  /** Endpoints are protected unless marked public. */
  public?: boolean
  summary?: string
  tags?: string[]
}

export interface ServiceRef<Config = unknown> {
  readonly name: string
  readonly version: string
  /** phantom: the service's validated config type */
  readonly __config?: Config
}

export type DeliveryMode = 'at-most-once' | 'durable'

export interface SubscriptionFilter {
  sender?: { service?: string; version?: string; name?: string }
  principalId?: string
  tenantId?: string
}

/** What every hook sees: the message and who sent it, never the handler's full context. */
export interface HookContext {
  readonly message: Envelope
  readonly principalId: string | undefined
  readonly tenantId: string | undefined
  readonly parameter: unknown
}

export interface CommandHooks<Input = unknown, Output = unknown> {
  /** Runs before validation: reshape or coerce the raw input. */
  transformInput?: (raw: unknown, hook: HookContext) => unknown | Promise<unknown>
  /** Run after validation, before the handler; throw a HandledError (401/403) to deny. */
  guards?: Array<(input: Input, hook: HookContext) => void | Promise<void>>
  /** Runs after output validation: reshape what goes on the wire. */
  transformOutput?: (output: Output, hook: HookContext) => unknown | Promise<unknown>
}

/** Type parameters of a command, bundled so the definition carries one generic. */
export interface CommandTypes {
  input: Schema
  output: Schema
  parameter: Schema
  emits: readonly AnyEventDefinition[]
  invokes: readonly AnyCommandDefinition[]
  config: unknown
}

export interface CommandDefinition<T extends CommandTypes = CommandTypes> {
  readonly kind: 'command'
  readonly service: ServiceRef<T['config']>
  readonly name: string
  readonly description: string | undefined
  readonly input: T['input']
  readonly output: T['output']
  readonly parameter: T['parameter'] | undefined
  readonly emits: T['emits']
  readonly invokes: T['invokes']
  /** milliseconds; the caller may override per call */
  readonly timeout: number | undefined
  readonly http: HttpBinding | undefined
  readonly hooks: CommandHooks<z.output<T['input']>, z.output<T['output']>>
}

export type AnyCommandDefinition = CommandDefinition<any>

export interface SubscriptionTypes {
  input: Schema
  emits: readonly AnyEventDefinition[]
  invokes: readonly AnyCommandDefinition[]
  output: AnyEventDefinition | undefined
  config: unknown
}

export interface SubscriptionDefinition<T extends SubscriptionTypes = SubscriptionTypes> {
  readonly kind: 'subscription'
  readonly service: ServiceRef<T['config']>
  readonly name: string
  readonly description: string | undefined
  /** event name or pattern (`*` one segment, final `#` one or more) */
  readonly event: string
  readonly input: T['input']
  readonly filter: SubscriptionFilter
  readonly delivery: DeliveryMode
  readonly maxAttempts: number
  readonly everyInstance: boolean
  readonly emits: T['emits']
  readonly invokes: T['invokes']
  /** the handler's return value is emitted as this event */
  readonly output: T['output']
  readonly timeout: number | undefined
}

export type AnySubscriptionDefinition = SubscriptionDefinition<any>

export interface CallOptions {
  /** milliseconds until the deadline; default: the command's timeout, else the bridge default (30 s) */
  timeout?: number
  headers?: Record<string, string>
}

/**
 * What the compiler names when a handler invokes a command its definition does not declare:
 * "... is not assignable to ... UndeclaredInvoke<"name">", with this property missing.
 */
export interface UndeclaredInvoke<Name extends string> {
  readonly 'is not declared in this handler\'s "invokes"': Name
}

/** What the compiler names when a handler emits an event its definition does not declare. */
export interface UndeclaredEmit<Name extends string> {
  readonly 'is not declared in this handler\'s "emits"': Name
}

/** What a handler gets besides its input. */
export interface HandlerContext<
  Emits extends readonly AnyEventDefinition[],
  Invokes extends readonly AnyCommandDefinition[],
  Config,
> {
  /** Invoke a command this definition declares in `invokes`. */
  invoke<C extends AnyCommandDefinition>(
    command: C & (C extends Invokes[number] ? unknown : UndeclaredInvoke<C['name']>),
    input: z.input<C['input']>,
    options?: CallOptions & { parameter?: Record<string, unknown> },
  ): Promise<z.output<C['output']>>
  /** Emit an event this definition declares in `emits`. */
  emit<N extends string>(
    eventName: N & (N extends Emits[number]['name'] ? unknown : UndeclaredEmit<N>),
    payload: N extends Emits[number]['name']
      ? z.input<Extract<Emits[number], { name: N }>['schema']>
      : unknown,
  ): Promise<void>
  readonly logger: Logger
  readonly stores: Stores
  readonly config: Config
  /** Fires at the message's deadline. */
  readonly signal: AbortSignal
  /**
   * The span of this message's handling; the handler runs with it active, so spans it starts
   * (and auto-instrumented calls) are its children. Non-recording without an OpenTelemetry SDK.
   */
  readonly span: Span
  /** Runs `work` in an active child span named `name`, ended (with any error recorded) when it settles. */
  startActiveSpan<T>(name: string, work: (span: Span) => T | Promise<T>, attributes?: Attributes): Promise<T>
  readonly principalId: string | undefined
  readonly tenantId: string | undefined
  readonly message: Envelope
}

export type CommandContext<T extends CommandTypes> = HandlerContext<T['emits'], T['invokes'], T['config']> & {
  readonly parameter: z.output<T['parameter']>
}

export type SubscriptionContext<T extends SubscriptionTypes> = HandlerContext<
  T['emits'],
  T['invokes'],
  T['config']
> & { readonly attempt: number }

type MaybePromise<T> = T | Promise<T>

export type CommandHandler<T extends CommandTypes> = (
  input: z.output<T['input']>,
  ctx: CommandContext<T>,
) => MaybePromise<z.input<T['output']>>

export type SubscriptionHandler<T extends SubscriptionTypes> = (
  payload: z.output<T['input']>,
  ctx: SubscriptionContext<T>,
) => MaybePromise<T['output'] extends AnyEventDefinition ? z.input<T['output']['schema']> : unknown>
