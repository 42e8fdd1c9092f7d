import type { z } from 'zod'
import { DefinitionError } from '../errors/errors.js'
import { assertEventPattern, assertIdentifier, assertVersion } from '../names.js'
import type {
  AnyCommandDefinition,
  AnyEventDefinition,
  AnySubscriptionDefinition,
  CommandDefinition,
  CommandHooks,
  DeliveryMode,
  EventDefinition,
  HttpBinding,
  Schema,
  ServiceRef,
  SubscriptionDefinition,
  SubscriptionFilter,
} from './types.js'

export interface ServiceSpec<C extends Schema | undefined> {
  name: string
  version: string
  description?: string
  /** schema of the service's config; the validated value reaches handlers as `ctx.config` */
  config?: C
  defaultConfig?: C extends Schema ? z.input<C> : never
}

export interface CommandSpec<
  I extends Schema,
  O extends Schema,
  P extends Schema,
  E extends readonly AnyEventDefinition[],
  V extends readonly AnyCommandDefinition[],
> {
  description?: string
  input: I
  output: O
  /** path and query values (from HTTP), validated separately from the body */
  parameter?: P
  /** events the handler may emit */
  emits?: E
  /** commands the handler may invoke */
  invokes?: V
  /** milliseconds; default 30 s (the bridge's default) */
  timeout?: number
  http?: HttpBinding
  hooks?: CommandHooks<z.output<I>, z.output<O>>
}

export interface SubscriptionSpec<
  Ev extends string | AnyEventDefinition,
  S extends Schema,
  E extends readonly AnyEventDefinition[],
  V extends readonly AnyCommandDefinition[],
  Out extends AnyEventDefinition | undefined,
> {
  description?: string
  /** an event definition, or an event name / pattern (`*` one segment, final `#` one or more) */
  event: Ev
  /** payload schema; defaults to the event definition's schema */
  input?: S
  filter?: SubscriptionFilter
  /** `at-most-once` (default, fast) or `durable` (at-least-once, acked after success) */
  delivery?: DeliveryMode
  /** durable only: attempts before the message is dead-lettered (default 5) */
  maxAttempts?: number
  /** deliver to every running instance instead of one per consumer group */
  everyInstance?: boolean
  emits?: E
  invokes?: V
  output?: Out
  timeout?: number
}

type ConfigOf<C> = C extends Schema ? z.output<C> : undefined
type SchemaOfEvent<Ev> = Ev extends EventDefinition<string, infer S> ? S : z.ZodUnknown
type ParameterDefault = z.ZodType<Record<string, unknown>>

/**
 * A service's contract: name, version, config schema and the commands and subscriptions
 * declared on it. It holds no handler, so gateways and clients import it freely.
 */
export class ServiceDefinition<C extends Schema | undefined = undefined> implements ServiceRef<ConfigOf<C>> {
  readonly kind = 'service'
  readonly name: string
  readonly version: string
  readonly description: string | undefined
  readonly configSchema: C | undefined
  readonly defaultConfig: unknown
  readonly commands: AnyCommandDefinition[] = []
  readonly subscriptions: AnySubscriptionDefinition[] = []
  declare readonly __config?: ConfigOf<C>

  constructor(spec: ServiceSpec<C>) {
    assertIdentifier('service', spec.name)
    assertVersion(spec.name, spec.version)
    this.name = spec.name
    this.version = spec.version
    this.description = spec.description
    this.configSchema = spec.config
    this.defaultConfig = spec.defaultConfig
  }

  command<
    I extends Schema,
    O extends Schema,
    E extends readonly AnyEventDefinition[] = [],
    V extends readonly AnyCommandDefinition[] = [],
    P extends Schema = ParameterDefault,
  >(
    name: string,
    spec: CommandSpec<I, O, P, E, V>,
  ): CommandDefinition<{ input: I; output: O; parameter: P; emits: E; invokes: V; config: ConfigOf<C> }> {
    assertIdentifier('command', name)
    this.assertUnique(name)
    assertTimeout(`${this.name}.${name}`, spec.timeout)
    if (spec.http && !spec.http.path.startsWith('/')) {
      throw new DefinitionError(`Command ${this.name}.${name}: http.path must start with '/'`)
    }
    const definition = Object.freeze({
      kind: 'command' as const,
      service: this,
      name,
      description: spec.description,
      input: spec.input,
      output: spec.output,
      parameter: spec.parameter,
      emits: spec.emits ?? ([] as unknown as E),
      invokes: spec.invokes ?? ([] as unknown as V),
      timeout: spec.timeout,
      http: spec.http,
      hooks: spec.hooks ?? {},
    })
    this.commands.push(definition)
    return definition
  }

  subscription<
    Ev extends string | AnyEventDefinition,
    S extends Schema = SchemaOfEvent<Ev> & Schema,
    E extends readonly AnyEventDefinition[] = [],
    V extends readonly AnyCommandDefinition[] = [],
    Out extends AnyEventDefinition | undefined = undefined,
  >(
    name: string,
    spec: SubscriptionSpec<Ev, S, E, V, Out>,
  ): SubscriptionDefinition<{ input: S; emits: E; invokes: V; output: Out; config: ConfigOf<C> }> {
    assertIdentifier('subscription', name)
    this.assertUnique(name)
    const subject = `Subscription ${this.name}.${name}`
    const event = typeof spec.event === 'string' ? spec.event : spec.event.name
    assertEventPattern(event)
    assertTimeout(subject, spec.timeout)
    const delivery = spec.delivery ?? 'at-most-once'
    if (delivery !== 'at-most-once' && delivery !== 'durable') {
      throw new DefinitionError(`${subject}: delivery must be 'at-most-once' or 'durable'`)
    }
    const maxAttempts = spec.maxAttempts ?? (delivery === 'durable' ? 5 : 1)
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
      throw new DefinitionError(`${subject}: maxAttempts must be a positive integer`)
    }
    if (spec.maxAttempts !== undefined && delivery !== 'durable' && spec.maxAttempts > 1) {
      throw new DefinitionError(
        `${subject}: maxAttempts needs delivery 'durable' (at-most-once never retries)`,
      )
    }
    const input = spec.input ?? (typeof spec.event === 'string' ? undefined : spec.event.schema)
    const definition = Object.freeze({
      kind: 'subscription' as const,
      service: this,
      name,
      description: spec.description,
      event,
      input: (input ?? null) as S,
      filter: spec.filter ?? {},
      delivery,
      maxAttempts,
      everyInstance: spec.everyInstance ?? false,
      emits: spec.emits ?? ([] as unknown as E),
      invokes: spec.invokes ?? ([] as unknown as V),
      output: spec.output as Out,
      timeout: spec.timeout,
    })
    this.subscriptions.push(definition)
    return definition
  }

  private assertUnique(name: string): void {
    if (this.commands.some((c) => c.name === name) || this.subscriptions.some((s) => s.name === name)) {
      throw new DefinitionError(`Service ${this.name} v${this.version} already declares "${name}"`)
    }
  }
}

function assertTimeout(subject: string, timeout: number | undefined): void {
  if (timeout !== undefined && (!Number.isFinite(timeout) || timeout <= 0)) {
    throw new DefinitionError(`${subject}: timeout must be a positive number of milliseconds`)
  }
}

/** Declares a service. Add commands and subscriptions with `.command()` / `.subscription()`. */
export function defineService<C extends Schema | undefined = undefined>(
  spec: ServiceSpec<C>,
): ServiceDefinition<C> {
  return new ServiceDefinition(spec)
}
