import {
  BridgeUnavailableError,
  ConduitError,
  type Envelope,
  type EventBridgeOptions,
  NoHandlerError,
} from '@conduit/core'
import {
  type BridgeCapabilities,
  EventBridge,
  supported,
  type Transport,
  unsupported,
} from '@conduit/core/transport'

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

export interface EventBusTransportOptions {
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

export interface EventBusBridgeOptions extends EventBusTransportOptions, EventBridgeOptions {}

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
 * An outgoing-only transport that puts every emitted event on an Amazon EventBridge bus: the
 * entry's `DetailType` is the event name and its `Detail` the whole envelope (the bytes the
 * engine encoded), which `createEventHandler` reads back from rule targets (Lambda, SQS). Give
 * it to a function as `outgoing`; it serves no commands and consumes nothing (Lambda event
 * sources do).
 */
export function createEventBusTransport(options: EventBusTransportOptions = {}): Transport {
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
    async publishEvent({ envelope, bytes }) {
      if (!putEvents) throw new BridgeUnavailableError(`${EVENT_BUS_BRIDGE_NAME} is not started`)
      const result = await putEvents([
        {
          EventBusName: eventBusName,
          Source: options.source ?? sourceOf(envelope),
          DetailType: envelope.eventName!,
          Detail: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'),
          Time: new Date(envelope.time),
        },
      ])
      if ((result.FailedEntryCount ?? 0) > 0) {
        const entry = result.Entries?.[0]
        throw new BridgeUnavailableError(
          `EventBridge refused ${envelope.eventName}: ${entry?.ErrorCode ?? 'unknown'} ${entry?.ErrorMessage ?? ''}`.trim(),
        )
      }
    },
  }
}

/** The event bus as a bridge of its own, for a process (not a function) that only emits. */
export class EventBusBridge extends EventBridge<Transport> {
  constructor(options: EventBusBridgeOptions = {}) {
    super(createEventBusTransport(options), options)
  }
}

function sourceOf(event: Readonly<Envelope>): string {
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
