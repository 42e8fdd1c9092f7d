import type { CommandAddress } from '@conduit/core/transport'

// Every name below is built from Conduit identifiers, versions and event names, which core
// restricts to [A-Za-z0-9_-] segments joined by dots: safe in URL paths and Dapr topic names.

const COMMAND_ROUTE_PREFIX = 'conduit/command/'
const EVENT_ROUTE_PREFIX = '/conduit/event/'

/** The method an invocation names: `/v1.0/invoke/<appId>/method/<this>`, served on the app port as `/<this>`. */
export function commandMethod(address: CommandAddress): string {
  return `${COMMAND_ROUTE_PREFIX}${address.service}/${address.version}/${address.command}`
}

/** Reverses commandMethod for a request path (`/conduit/command/...`); undefined for other paths. */
export function commandKeyOfPath(path: string): string | undefined {
  return path.startsWith(`/${COMMAND_ROUTE_PREFIX}`) ? path.slice(COMMAND_ROUTE_PREFIX.length + 1) : undefined
}

export function commandKey(address: CommandAddress): string {
  return commandMethod(address).slice(COMMAND_ROUTE_PREFIX.length)
}

/** The Dapr topic of an event: the prefix, then the event name (`user.registered`). */
export function eventTopic(topicPrefix: string, eventName: string): string {
  return `${topicPrefix}${eventName}`
}

/** The event name a topic carries, or undefined when the topic is not under the prefix. */
export function eventNameOfTopic(topicPrefix: string, topic: string): string | undefined {
  return topic.startsWith(topicPrefix) && topic.length > topicPrefix.length
    ? topic.slice(topicPrefix.length)
    : undefined
}

/** The route Dapr delivers a topic's CloudEvents to, on the app port. */
export function eventRoute(topic: string): string {
  return `${EVENT_ROUTE_PREFIX}${topic}`
}

export function topicOfEventRoute(path: string): string | undefined {
  return path.startsWith(EVENT_ROUTE_PREFIX) ? path.slice(EVENT_ROUTE_PREFIX.length) : undefined
}

/** Where the bridge puts what a consumer group dead-lettered: `<prefix>dead-letter.<group>`. */
export function deadLetterTopic(topicPrefix: string, group: string): string {
  return `${topicPrefix}dead-letter.${group}`
}
