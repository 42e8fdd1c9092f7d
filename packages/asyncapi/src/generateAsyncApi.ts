import {
  type AnyCommandDefinition,
  type AnyEventDefinition,
  type AnySubscriptionDefinition,
  type BridgeCapabilities,
  consumerGroupOf,
  type DestinationTarget,
  requiredCapabilities,
  type ServiceDefinition,
} from '@conduit/core'
import { type CatalogEvent, catalogEvents, eventsOf } from './eventCatalog.js'
import { PayloadSchemas } from './payloadSchemas.js'
import {
  CLOUD_EVENT_TRAIT,
  cloudEventOf,
  ENVELOPE_TRAIT,
  ERROR_SCHEMA,
  envelopeOf,
  type JsonSchema,
  schemaRef,
  wireSchemas,
  wireTraits,
} from './wireSchemas.js'

/** What the generator reads of a bridge: an EventBridge fits; constructing one does not connect. */
export interface AsyncApiBridge {
  readonly name: string
  destinationName(target: DestinationTarget): string
  readonly capabilities?: BridgeCapabilities
}

export interface AsyncApiOptions {
  /** service definitions (no handlers needed) */
  services: readonly ServiceDefinition<any>[]
  /** events to document besides those the services emit or subscribe to */
  events?: readonly AnyEventDefinition[]
  bridge: AsyncApiBridge
  info?: { title?: string; version?: string; description?: string }
  /** events travel as CloudEvents (structured mode); default: true on the `dapr` bridge */
  cloudEvents?: boolean
  /** AsyncAPI server objects, by name (host, protocol, ...) */
  servers?: Record<string, Record<string, unknown>>
}

export interface AsyncApiDocument {
  asyncapi: '3.0.0'
  info: { title: string; version: string; description?: string }
  defaultContentType: string
  servers?: Record<string, Record<string, unknown>>
  channels: Record<string, JsonSchema>
  operations: Record<string, JsonSchema>
  components: {
    schemas: Record<string, JsonSchema>
    messages: Record<string, JsonSchema>
    messageTraits: Record<string, JsonSchema>
  }
}

/** Where each bridge sends a reply; the address is chosen per call, so the channel has none. */
const REPLY_ADDRESSES: Record<string, string> = {
  nats: "the request's reply subject (a NATS inbox of the calling instance)",
  amqp: "the calling instance's reply queue, named in the request's AMQP reply-to property",
  mqtt: 'the MQTT 5 response topic of the request (one per calling instance)',
  dapr: 'the HTTP response to the Dapr service invocation',
  memory: 'handed back in process',
}

const messageRef = (name: string) => ({ $ref: `#/components/messages/${name}` })
const channelRef = (id: string) => ({ $ref: `#/channels/${id}` })
/** Component and channel keys allow [A-Za-z0-9_.-] at most; names may hold other characters. */
const key = (...parts: string[]) => parts.join('_').replace(/[^A-Za-z0-9_.-]/g, '-')

/**
 * An AsyncAPI 3.0 document of the services' commands (request/reply operations) and events
 * (channels at the bridge's real destinations), payloads from their zod schemas.
 */
export function generateAsyncApi(options: AsyncApiOptions): AsyncApiDocument {
  const { bridge, services } = options
  const cloudEvents = options.cloudEvents ?? bridge.name === 'dapr'
  const schemas = new PayloadSchemas()
  const messages: Record<string, JsonSchema> = {}
  const channels: Record<string, JsonSchema> = {}
  const operations: Record<string, JsonSchema> = {}
  const events = catalogEvents(services, options.events ?? [])

  const eventChannels = new Map<string, string>()
  for (const event of events.values()) {
    const id = key('event', event.name)
    const message = key(event.name)
    messages[message] = eventMessage(event, schemas, cloudEvents)
    channels[id] = {
      address: bridge.destinationName({ kind: 'event', eventName: event.name }),
      title: event.name,
      ...(event.description === undefined ? {} : { description: event.description }),
      messages: { [message]: messageRef(message) },
    }
    eventChannels.set(event.name, id)
    if (event.emittedBy.length > 0) {
      operations[key('emit', event.name)] = {
        action: 'send',
        channel: channelRef(id),
        summary: `Emit ${event.name}`,
        description: `Emitted by ${event.emittedBy.join(', ')}`,
        messages: [{ $ref: `#/channels/${id}/messages/${message}` }],
      }
    }
  }

  for (const service of services) {
    for (const command of service.commands)
      addCommand(command, bridge, schemas, messages, channels, operations)
    for (const subscription of service.subscriptions) {
      addSubscription(subscription, events, eventChannels, channels, operations, messages)
    }
  }

  return {
    asyncapi: '3.0.0',
    info: {
      title: options.info?.title ?? 'Conduit API',
      version: options.info?.version ?? '1.0.0',
      description:
        options.info?.description ??
        `Commands and events of ${services.map((s) => `${s.name} v${s.version}`).join(', ')} on the ${bridge.name} bridge`,
    },
    defaultContentType: 'application/json',
    ...(options.servers === undefined ? {} : { servers: options.servers }),
    channels,
    operations,
    components: {
      schemas: { ...wireSchemas(), ...schemas.components },
      messages,
      messageTraits: wireTraits(),
    },
  }
}

function eventMessage(event: CatalogEvent, schemas: PayloadSchemas, cloudEvents: boolean): JsonSchema {
  const data = event.schema ? schemas.add(key(event.name, 'payload'), event.schema, 'output') : {}
  return {
    name: event.name,
    title: event.name,
    ...(event.description === undefined ? {} : { summary: event.description }),
    payload: cloudEvents
      ? cloudEventOf(event.name, data)
      : envelopeOf({ type: { const: 'event' }, eventName: { const: event.name } }, ['eventName'], data),
    traits: [{ $ref: `#/components/messageTraits/${cloudEvents ? CLOUD_EVENT_TRAIT : ENVELOPE_TRAIT}` }],
  }
}

function addCommand(
  command: AnyCommandDefinition,
  bridge: AsyncApiBridge,
  schemas: PayloadSchemas,
  messages: Record<string, JsonSchema>,
  channels: Record<string, JsonSchema>,
  operations: Record<string, JsonSchema>,
): void {
  const { service } = command
  const address = { service: service.name, version: service.version, command: command.name }
  const base = key(service.name, `v${service.version}`, command.name)
  const trait = [{ $ref: `#/components/messageTraits/${ENVELOPE_TRAIT}` }]
  const receiver = {
    type: 'object',
    properties: {
      service: { const: address.service },
      version: { const: address.version },
      command: { const: address.command },
    },
  }
  const parameter = command.parameter
    ? { parameter: schemas.add(`${base}_parameter`, command.parameter, 'input') }
    : {}
  messages[`${base}_request`] = {
    name: `${base}.request`,
    title: `${service.name} v${service.version} ${command.name}`,
    ...(command.description === undefined ? {} : { summary: command.description }),
    payload: envelopeOf(
      { type: { const: 'command' }, receiver, ...parameter },
      ['receiver', 'deadline'],
      schemas.add(`${base}_input`, command.input, 'input'),
    ),
    traits: trait,
  }
  messages[`${base}_response`] = {
    name: `${base}.response`,
    title: `${command.name} response`,
    payload: envelopeOf(
      { type: { const: 'response' } },
      ['inReplyTo'],
      schemas.add(`${base}_output`, command.output, 'output'),
    ),
    traits: trait,
  }
  messages[`${base}_error`] = {
    name: `${base}.error`,
    title: `${command.name} error`,
    payload: envelopeOf({ type: { const: 'error' } }, ['inReplyTo'], schemaRef(ERROR_SCHEMA)),
    traits: trait,
  }
  const requestChannel = key('command', base)
  const replyChannel = key('reply', base)
  channels[requestChannel] = {
    address: bridge.destinationName({ kind: 'command', address }),
    title: `${service.name} v${service.version} ${command.name}`,
    messages: { request: messageRef(`${base}_request`) },
  }
  channels[replyChannel] = {
    address: null,
    title: `${command.name} replies`,
    description: `Replies go to ${REPLY_ADDRESSES[bridge.name] ?? 'the reply address the bridge chose for the call'}.`,
    messages: { response: messageRef(`${base}_response`), error: messageRef(`${base}_error`) },
  }
  operations[base] = {
    action: 'send',
    channel: channelRef(requestChannel),
    title: `Invoke ${service.name} v${service.version} ${command.name}`,
    ...(command.description === undefined ? {} : { description: command.description }),
    messages: [{ $ref: `#/channels/${requestChannel}/messages/request` }],
    reply: {
      channel: channelRef(replyChannel),
      messages: [
        { $ref: `#/channels/${replyChannel}/messages/response` },
        { $ref: `#/channels/${replyChannel}/messages/error` },
      ],
    },
    ...(command.timeout === undefined ? {} : { 'x-conduit-timeout-ms': command.timeout }),
    ...(command.http ? { 'x-conduit-http': { method: command.http.method, path: command.http.path } } : {}),
  }
}

function addSubscription(
  subscription: AnySubscriptionDefinition,
  events: Map<string, CatalogEvent>,
  eventChannels: Map<string, string>,
  channels: Record<string, JsonSchema>,
  operations: Record<string, JsonSchema>,
  messages: Record<string, JsonSchema>,
): void {
  const { service } = subscription
  const base = key(service.name, `v${service.version}`, subscription.name)
  const details = {
    summary: `${service.name} v${service.version} ${subscription.name} (${subscription.delivery})`,
    ...(subscription.description === undefined ? {} : { description: subscription.description }),
    'x-conduit-subscription': {
      event: subscription.event,
      consumerGroup: consumerGroupOf(subscription),
      delivery: subscription.delivery,
      maxAttempts: subscription.maxAttempts,
      everyInstance: subscription.everyInstance,
      filter: subscription.filter,
      requires: requiredCapabilities(subscription),
    },
  }
  const names = eventsOf(subscription, events)
  if (names.length === 0) {
    // a pattern no documented event matches: a channel without a fixed address
    const id = key('pattern', subscription.event)
    const message = key(subscription.event)
    messages[message] ??= {
      name: subscription.event,
      payload: envelopeOf({ type: { const: 'event' } }, [], {}),
    }
    channels[id] ??= {
      address: null,
      title: subscription.event,
      description: `Events matching ${subscription.event} ('*' one segment, final '#' one or more)`,
      messages: { [message]: messageRef(message) },
    }
    names.push(subscription.event)
    eventChannels.set(subscription.event, id)
  }
  for (const name of names) {
    const channel = eventChannels.get(name)!
    const message = Object.keys(channels[channel]!.messages as object)[0]!
    operations[names.length === 1 ? base : key(base, name)] = {
      action: 'receive',
      channel: channelRef(channel),
      ...details,
      messages: [{ $ref: `#/channels/${channel}/messages/${message}` }],
    }
  }
}
