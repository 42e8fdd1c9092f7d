import { type CommandAddress, ConduitError } from '@conduit/core'

/**
 * The MQTT topic scheme (docs/bridges/mqtt.md). Everything lives under one prefix, so that
 * several applications (or tests) share a broker without seeing each other's messages.
 *
 *   <prefix>/cmd/<service>/<version>/<command>        commands (shared subscription per address)
 *   <prefix>/reply/<instanceId>                       responses (MQTT 5 response topic)
 *   <prefix>/event/<event>/<name>/<segments>          events ('.' in the event name becomes '/')
 *   <prefix>/dead-letter/<group>/<messageId>          dead letters (retained)
 *   <prefix>/durable/<group>/orphan/<clientId>        sessions of stopped durable members (retained)
 *   <prefix>/durable/<group>/loss/<uuid>              events the broker dropped for a durable session (retained)
 *   <prefix>/sentinel/<uuid>                          markers a connection sends itself ("queue drained")
 */
export interface TopicScheme {
  readonly prefix: string
  command(address: CommandAddress): string
  /** shared-subscription filter that makes the instances of one command compete */
  commandFilter(address: CommandAddress): string
  reply(instanceId: string): string
  /** why `topic`, a response topic read from the wire, cannot be replied to; undefined when it can */
  replyTopicProblem(topic: string): string | undefined
  event(eventName: string): string
  /** MQTT filter for a Conduit event pattern (the engine re-checks every match) */
  eventFilter(pattern: string): string
  deadLetter(group: string, messageId: string): string
  deadLetterFilter(group: string): string
  orphan(group: string, clientId: string): string
  orphanFilter(group: string): string
  loss(group: string, recordId: string): string
  lossFilter(group: string): string
  sentinel(id: string): string
}

/** 400: a name that cannot be an MQTT topic level (a wildcard, a separator or NUL in it). */
export class InvalidTopicError extends ConduitError {
  static {
    // an explicit name survives minification (logs show it, not the bundler's short class name)
    Object.defineProperty(InvalidTopicError.prototype, 'name', {
      value: 'InvalidTopicError',
      writable: true,
      configurable: true,
    })
  }

  constructor(kind: string, value: string, why: string) {
    super(400, 'INVALID_TOPIC', `Invalid ${kind} ${JSON.stringify(value)} for an MQTT topic: ${why}`, false)
  }
}

// '+' and '#' are MQTT wildcards, '/' separates levels, NUL is forbidden by the spec (MQTT 5, 4.7.3).
const FORBIDDEN_IN_LEVEL = ['+', '#', '/', '\0']

/** Checks one topic level (a service, version, command, group or event segment). */
export function assertTopicLevel(kind: string, value: string): void {
  if (value.length === 0) throw new InvalidTopicError(kind, value, 'it is empty')
  const found = FORBIDDEN_IN_LEVEL.find((character) => value.includes(character))
  if (found !== undefined) {
    const shown = found === '\0' ? 'NUL' : `'${found}'`
    throw new InvalidTopicError(kind, value, `${shown} is not allowed (MQTT reserves '+', '#', '/' and NUL)`)
  }
}

/** Checks the configured prefix: one or more levels, no wildcards, not a `$` system topic. */
export function assertPrefix(prefix: string): void {
  if (prefix.startsWith('$'))
    throw new InvalidTopicError('prefix', prefix, "topics starting with '$' belong to the broker")
  for (const level of prefix.split('/')) assertTopicLevel('prefix level', level)
}

/**
 * What makes `topic` unusable as a topic name, shown for a message ('+', '#' or NUL), or
 * undefined. Wildcards belong to filters: a broker disconnects a client that publishes to one.
 */
export function illegalInTopicName(topic: string): string | undefined {
  const illegal = ['+', '#', '\0'].find((character) => topic.includes(character))
  if (illegal === undefined) return undefined
  return illegal === '\0' ? 'NUL' : `'${illegal}'`
}

/** Longest response topic a command may name: the reply's topic must fit the packet overhead. */
export const MAX_RESPONSE_TOPIC_BYTES = 1_024

function quoted(topic: string): string {
  return JSON.stringify(topic.length <= 80 ? topic : `${topic.slice(0, 80)}…`)
}

/**
 * A response topic must be `<prefix>/reply/<one level>`: a topic name (no wildcard: publishing
 * to one makes the broker disconnect the publisher) inside this application's reply namespace
 * (a command may not make a service publish anywhere else).
 */
function replyTopicProblem(replyRoot: string, topic: string): string | undefined {
  const illegal = illegalInTopicName(topic)
  if (illegal !== undefined)
    return `response topic ${quoted(topic)} holds ${illegal}, illegal in a topic name`
  if (Buffer.byteLength(topic) > MAX_RESPONSE_TOPIC_BYTES)
    return `response topic longer than ${MAX_RESPONSE_TOPIC_BYTES} bytes`
  const level = topic.startsWith(replyRoot) ? topic.slice(replyRoot.length) : '/'
  if (level.length === 0 || level.includes('/'))
    return `response topic ${quoted(topic)} is outside this bridge's reply namespace ${replyRoot}<id>`
  return undefined
}

/** `user.registered` → `user/registered`. */
function eventLevels(eventName: string): string {
  const segments = eventName.split('.')
  for (const segment of segments) assertTopicLevel('event name segment', segment)
  return segments.join('/')
}

/**
 * Conduit pattern → MQTT filter: `*` (one segment) → `+`, a final `#` (one or more segments)
 * → `#`. MQTT's `#` also matches the parent level itself (zero segments), so the filter can be
 * wider than the pattern; the engine's matcher drops the extra messages.
 */
function patternLevels(pattern: string): string {
  return pattern
    .split('.')
    .map((segment) => {
      if (segment === '*') return '+'
      if (segment === '#') return '#'
      assertTopicLevel('event pattern segment', segment)
      return segment
    })
    .join('/')
}

export function createTopicScheme(prefix: string): TopicScheme {
  assertPrefix(prefix)
  const commandPath = (address: CommandAddress): string => {
    assertTopicLevel('service name', address.service)
    assertTopicLevel('service version', address.version)
    assertTopicLevel('command name', address.command)
    return `${address.service}/${address.version}/${address.command}`
  }
  const group = (name: string): string => {
    assertTopicLevel('consumer group', name)
    return name
  }
  const replyRoot = `${prefix}/reply/`
  return {
    prefix,
    command: (address) => `${prefix}/cmd/${commandPath(address)}`,
    // The share name only has to be unique per topic filter; the filter already carries the prefix.
    commandFilter: (address) =>
      `$share/${address.service}.v${address.version}.${address.command}/${prefix}/cmd/${commandPath(address)}`,
    reply: (instanceId) => {
      assertTopicLevel('instance id', instanceId)
      return `${replyRoot}${instanceId}`
    },
    replyTopicProblem: (topic) => replyTopicProblem(replyRoot, topic),
    event: (eventName) => `${prefix}/event/${eventLevels(eventName)}`,
    eventFilter: (pattern) => `${prefix}/event/${patternLevels(pattern)}`,
    deadLetter: (name, messageId) => {
      assertTopicLevel('message id', messageId)
      return `${prefix}/dead-letter/${group(name)}/${messageId}`
    },
    deadLetterFilter: (name) => `${prefix}/dead-letter/${group(name)}/+`,
    orphan: (name, clientId) => {
      assertTopicLevel('client id', clientId)
      return `${prefix}/durable/${group(name)}/orphan/${clientId}`
    },
    orphanFilter: (name) => `${prefix}/durable/${group(name)}/orphan/+`,
    loss: (name, recordId) => {
      assertTopicLevel('record id', recordId)
      return `${prefix}/durable/${group(name)}/loss/${recordId}`
    },
    lossFilter: (name) => `${prefix}/durable/${group(name)}/loss/+`,
    sentinel: (id) => `${prefix}/sentinel/${id}`,
  }
}

/** `$share/<group>/<filter>`: one subscriber of the group gets each message. */
export function sharedFilter(group: string, filter: string): string {
  assertTopicLevel('consumer group', group)
  return `$share/${group}/${filter}`
}
