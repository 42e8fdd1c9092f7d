import type { CommandExecutor, EventExecutor, HandlingScope } from '../bridge/receivers.js'
import type { HookContext } from '../definitions/types.js'
import { type HandlerPermissions, type InstanceRuntime, MessageContext } from './context.js'
import type { CommandImplementation, SubscriptionImplementation } from './implementation.js'
import { parseValue } from './validation.js'

export function permissionsOf(
  runtime: InstanceRuntime,
  definition: CommandImplementation['definition'] | SubscriptionImplementation['definition'],
): HandlerPermissions {
  return {
    name: definition.name,
    subject: `${runtime.service}.v${runtime.version}.${definition.name}`,
    emits: new Map(definition.emits.map((event: { name: string }) => [event.name, event])),
    invokes: new Set(definition.invokes),
    timeout: definition.kind === 'subscription' ? definition.timeout : undefined,
  }
}

/**
 * The command pipeline: transform input, validate input and parameter, guards, handler,
 * validate output, transform output. Validation failures are 400s naming what and where.
 */
export function commandPipeline(
  runtime: InstanceRuntime,
  implementation: CommandImplementation,
): CommandExecutor {
  const { definition, handler } = implementation
  const { hooks } = definition
  const permissions = permissionsOf(runtime, definition)
  const subject = permissions.subject
  const guards = hooks.guards ?? []
  if (hooks.transformInput || hooks.transformOutput || guards.length > 0) {
    return hookedCommandPipeline(runtime, implementation, permissions)
  }
  // No hooks (the common case, and the hot path): a synchronous step (a schema without async
  // refinements, a handler that returns a value) costs no promise and no microtask, and no
  // closure is made per call.
  const parseOutput = (output: unknown) => parseValue(definition.output, output, 'output', subject)
  const runHandler = (input: unknown, context: MessageContext): Promise<unknown> => {
    const output = handler(input as never, context as never)
    return isThenable(output)
      ? Promise.resolve(output).then(parseOutput)
      : Promise.resolve(parseOutput(output))
  }
  const withParameter = (scope: HandlingScope, parameter: unknown): Promise<unknown> => {
    const context = new MessageContext(runtime, permissions, scope, parameter, 1)
    const input = parseValue(definition.input, scope.message.payload, 'input', subject)
    return input instanceof Promise
      ? input.then((value) => runHandler(value, context))
      : runHandler(input, context)
  }
  return (scope) => {
    try {
      const parameter = parseValue(definition.parameter, scope.message.parameter ?? {}, 'parameter', subject)
      return parameter instanceof Promise
        ? parameter.then((value) => withParameter(scope, value))
        : withParameter(scope, parameter)
    } catch (error) {
      return Promise.reject(error)
    }
  }
}

/** What `await` would wait for: a promise or any other thenable. */
function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value instanceof Promise ||
    (value !== null &&
      (typeof value === 'object' || typeof value === 'function') &&
      typeof (value as { then?: unknown }).then === 'function')
  )
}

/** The command pipeline of a definition with hooks (transformInput, guards, transformOutput). */
function hookedCommandPipeline(
  runtime: InstanceRuntime,
  implementation: CommandImplementation,
  permissions: HandlerPermissions,
): CommandExecutor {
  const { definition, handler } = implementation
  const { hooks } = definition
  const subject = permissions.subject
  const guards = hooks.guards ?? []
  return async (scope) => {
    const message = scope.message
    let parameter = parseValue(definition.parameter, message.parameter ?? {}, 'parameter', subject)
    if (parameter instanceof Promise) parameter = await parameter
    const context = new MessageContext(runtime, permissions, scope, parameter, 1)
    let raw = message.payload
    if (hooks.transformInput) raw = await hooks.transformInput(raw, context as HookContext)
    let input = parseValue(definition.input, raw, 'input', subject)
    if (input instanceof Promise) input = await input
    for (const guard of guards) await guard(input, context)
    const output = await handler(input, context as never)
    let result = parseValue(definition.output, output, 'output', subject)
    if (result instanceof Promise) result = await result
    if (hooks.transformOutput) result = await hooks.transformOutput(result, context)
    return result
  }
}

/** The subscription pipeline: validate the event payload, run the handler, emit its output event. */
export function subscriptionPipeline(
  runtime: InstanceRuntime,
  implementation: SubscriptionImplementation,
): EventExecutor {
  const { definition, handler } = implementation
  const permissions = permissionsOf(runtime, definition)
  const subject = permissions.subject
  const run = (scope: HandlingScope, payload: unknown, attempt: number): Promise<void> => {
    const context = new MessageContext(runtime, permissions, scope, scope.message.parameter ?? {}, attempt)
    const result = handler(payload as never, context as never)
    const output = definition.output
    if (!output) return isThenable(result) ? Promise.resolve(result).then(nothing) : RESOLVED
    return Promise.resolve(result).then((value) => context.emitValidated(output, value))
  }
  // Chained, not awaited (as the command pipeline): a synchronous step costs no promise.
  return (scope, attempt) => {
    try {
      const payload = parseValue(definition.input, scope.message.payload, 'event', subject)
      return payload instanceof Promise
        ? payload.then((value) => run(scope, value, attempt))
        : run(scope, payload, attempt)
    } catch (error) {
      return Promise.reject(error)
    }
  }
}

const RESOLVED: Promise<void> = Promise.resolve()
const nothing = (): void => undefined
