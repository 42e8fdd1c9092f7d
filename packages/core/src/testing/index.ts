import { INVALID_SPAN_CONTEXT, trace } from '@opentelemetry/api'
import type { EventBridge } from '../bridge/EventBridge.js'
import type { HandlingScope } from '../bridge/receivers.js'
import type { AnyCommandDefinition, AnyEventDefinition } from '../definitions/types.js'
import { type Envelope, JSON_CONTENT_TYPE, SPEC_VERSION } from '../envelope/envelope.js'
import { createDefaultLogger, type Logger } from '../observability/logging.js'
import type { InstanceRuntime } from '../service/context.js'
import type { CommandImplementation, SubscriptionImplementation } from '../service/implementation.js'
import { commandPipeline, subscriptionPipeline } from '../service/pipelines.js'
import { parseValue } from '../service/validation.js'
import type { Stores } from '../stores/contracts.js'
import { memoryStores } from '../stores/memory.js'

/**
 * Unit-test helpers: run one handler through the real pipeline (validation, hooks, declared
 * emits/invokes) with a fake bridge that records emits and answers invokes from your stubs.
 * Nothing here is exported from the runtime entry.
 */
export interface HandlerTestOptions {
  principalId?: string
  tenantId?: string
  parameter?: Record<string, unknown>
  headers?: Record<string, string>
  config?: unknown
  stores?: Partial<Stores>
  /** absolute epoch ms; `ctx.signal` fires then */
  deadline?: number
  /** answers `ctx.invoke`; receives the callee definition and the input */
  invoke?: (command: AnyCommandDefinition, input: unknown) => unknown
  logger?: Logger
  attempt?: number
}

export interface HandlerTestRecord {
  emitted: { eventName: string; payload: unknown }[]
  invoked: { command: string; input: unknown }[]
  stores: Stores
}

function fakeRuntime(
  service: { name: string; version: string },
  options: HandlerTestOptions,
  record: HandlerTestRecord,
) {
  const bridge = {
    async invoke(command: AnyCommandDefinition, input: unknown) {
      record.invoked.push({ command: `${command.service.name}.${command.name}`, input })
      if (!options.invoke) throw new Error(`No invoke stub given for ${command.service.name}.${command.name}`)
      return options.invoke(command, input)
    },
    // Validates like the real bridge: the definition's schema, at the emitter.
    async emit(event: AnyEventDefinition, payload: unknown) {
      let parsed = parseValue(event.schema, payload, 'event', event.name)
      if (parsed instanceof Promise) parsed = await parsed
      record.emitted.push({ eventName: event.name, payload: parsed })
    },
  }
  const runtime: InstanceRuntime = {
    bridge: bridge as unknown as EventBridge,
    logger: options.logger ?? createDefaultLogger({ test: true }),
    stores: record.stores,
    config: options.config,
    service: service.name,
    version: service.version,
  }
  return runtime
}

function fakeScope(type: 'command' | 'event', payload: unknown, options: HandlerTestOptions): HandlingScope {
  const message: Envelope = {
    id: 'test-message',
    type,
    specVersion: SPEC_VERSION,
    time: Date.now(),
    correlationId: 'test-correlation',
    sender: { instanceId: 'test' },
    contentType: JSON_CONTENT_TYPE,
    payload,
  }
  if (options.principalId !== undefined) message.principalId = options.principalId
  if (options.tenantId !== undefined) message.tenantId = options.tenantId
  if (options.parameter !== undefined) message.parameter = options.parameter
  if (options.headers !== undefined) message.headers = options.headers
  if (options.deadline !== undefined) message.deadline = options.deadline
  return { message, span: trace.wrapSpanContext(INVALID_SPAN_CONTEXT), traceparent: undefined }
}

/** Runs a command handler through its pipeline; resolves with the validated output. */
export async function testCommand(
  implementation: CommandImplementation,
  input: unknown,
  options: HandlerTestOptions = {},
): Promise<HandlerTestRecord & { output: unknown }> {
  const record: HandlerTestRecord = { emitted: [], invoked: [], stores: memoryStores(options.stores) }
  const runtime = fakeRuntime(implementation.definition.service, options, record)
  const output = await commandPipeline(runtime, implementation)(fakeScope('command', input, options))
  return { ...record, output }
}

/** Runs a subscription handler through its pipeline with one event payload. */
export async function testSubscription(
  implementation: SubscriptionImplementation,
  payload: unknown,
  options: HandlerTestOptions = {},
): Promise<HandlerTestRecord> {
  const record: HandlerTestRecord = { emitted: [], invoked: [], stores: memoryStores(options.stores) }
  const runtime = fakeRuntime(implementation.definition.service, options, record)
  const scope = fakeScope('event', payload, options)
  await subscriptionPipeline(runtime, implementation)(scope, options.attempt ?? 1)
  return record
}
