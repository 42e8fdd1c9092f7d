import {
  type BridgeCapabilities,
  BridgeUnavailableError,
  ConduitError,
  type Envelope,
  EventBridge,
  type EventBridgeOptions,
  encodeEnvelope,
  NoHandlerError,
  supported,
  type Transport,
  unsupported,
} from '@conduit/core'

export const EVENT_BUS_BRIDGE_NAME = 'aws-eventbridge'
/** PutEvents takes entries up to 256 KiB (detail, detail-type, source and bus name together). */
export const EVENT_BUS_MAX_ENTRY_BYTES = 256 * 1024
const ENTRY_OVERHEAD_BYTES = 1024

/** One PutEvents entry, as the AWS SDK names its fields. */
export interface PutEventsEntry {
  EventBusName: string
  Source: string
  DetailType: string
  Detail: string
  Time: Date
}

export interface PutEventsResult {
  FailedEntryCount?: number
  Entries?: { EventId?: string; ErrorCode?: string; ErrorMessage?: string }[]
}

/** Sends one PutEvents request. */
export type PutEvents = (entries: PutEventsEntry[]) => Promise<PutEventsResult>

export interface EventBusBridgeOptions extends EventBridgeOptions {
  /** the bus name or ARN; default `default` */
  eventBusName?: string
  /** the entries' `Source`; default `conduit.<sending service>` */
  source?: string
  /**
   * Sends PutEvents. Default: the AWS SDK v3 EventBridgeClient from `@aws-sdk/client-eventbridge`,
   * which the Lambda Node.js runtime provides, created at start.
   */
  putEvents?: PutEvents
}

const eventBusCapabilities: BridgeCapabilities = Object.freeze({
  requestReply: unsupported('an event bus carries events only; invoke commands through another bridge'),
  durable: supported,
  everyInstance: unsupported('fan-out is configured with EventBridge rules, one per subscriber'),
  wildcards: supported,
  noHandlerDetection: unsupported('an event bus carries events only'),
  deadLetterInspection: unsupported("dead letters are in the targets' DLQs"),
  maxPayloadBytes: EVENT_BUS_MAX_ENTRY_BYTES - ENTRY_OVERHEAD_BYTES,
})

/**
 * An outgoing-only bridge that puts every emitted event on an Amazon EventBridge bus: the
 * entry's `DetailType` is the event name and its `Detail` the whole envelope, which
 * `createEventHandler` reads back from rule targets (Lambda, SQS). Give it to a function as
 * `bridge`; it serves no commands and consumes nothing (Lambda event sources do).
 */
export class EventBusBridge extends EventBridge {
  constructor(options: EventBusBridgeOptions = {}) {
    super(createEventBusTransport(options), options)
  }
}

function createEventBusTransport(options: EventBusBridgeOptions): Transport {
  const eventBusName = options.eventBusName ?? 'default'
  let putEvents: PutEvents | undefined
  const notConsumed = () =>
    new ConduitError(
      501,
      'NOT_SUPPORTED',
      `${EVENT_BUS_BRIDGE_NAME} only publishes; bus events reach a function through createEventHandler`,
      false,
    )
  return {
    name: EVENT_BUS_BRIDGE_NAME,
    capabilities: eventBusCapabilities,
    async connect() {
      putEvents = options.putEvents ?? (await sdkPutEvents())
    },
    async disconnect() {
      putEvents = undefined
    },
    isReady: () => putEvents !== undefined,
    isHealthy: () => putEvents !== undefined,
    async sendCommand(address) {
      throw new NoHandlerError(
        `${address.service}.v${address.version}.${address.command}: ${EVENT_BUS_BRIDGE_NAME} carries events only`,
      )
    },
    async listenCommands() {
      throw notConsumed()
    },
    async listenEvents() {
      throw notConsumed()
    },
    async publishEvent(event) {
      if (!putEvents) throw new BridgeUnavailableError(`${EVENT_BUS_BRIDGE_NAME} is not started`)
      const detail = encodeEnvelope(event, eventBusCapabilities.maxPayloadBytes, EVENT_BUS_BRIDGE_NAME)
      const result = await putEvents([
        {
          EventBusName: eventBusName,
          Source: options.source ?? sourceOf(event),
          DetailType: event.eventName!,
          Detail: Buffer.from(detail).toString('utf8'),
          Time: new Date(event.time),
        },
      ])
      if ((result.FailedEntryCount ?? 0) > 0) {
        const entry = result.Entries?.[0]
        throw new BridgeUnavailableError(
          `EventBridge refused ${event.eventName}: ${entry?.ErrorCode ?? 'unknown'} ${entry?.ErrorMessage ?? ''}`.trim(),
        )
      }
    },
  }
}

function sourceOf(event: Envelope): string {
  return event.sender.service ? `conduit.${event.sender.service}` : 'conduit'
}

const SDK_MODULE = '@aws-sdk/client-eventbridge'

async function sdkPutEvents(): Promise<PutEvents> {
  let sdk: { EventBridgeClient: new (config: object) => any; PutEventsCommand: new (input: object) => any }
  try {
    sdk = await import(/* @vite-ignore */ SDK_MODULE)
  } catch {
    throw new ConduitError(
      500,
      'MISSING_DEPENDENCY',
      `${EVENT_BUS_BRIDGE_NAME} needs ${SDK_MODULE}: the Lambda Node.js runtime has it; elsewhere run \`pnpm add ${SDK_MODULE}\` or pass putEvents`,
      false,
    )
  }
  const client = new sdk.EventBridgeClient({})
  return (entries) => client.send(new sdk.PutEventsCommand({ Entries: entries }))
}
