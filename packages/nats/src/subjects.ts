import { assertEventName, assertEventPattern, type CommandAddress, ConduitError } from '@conduit/core'

// Every subject, queue group, stream and consumer name the bridge uses comes from here, so the
// mapping documented in docs/bridges/nats.md is this file and nothing else.

const SUBJECT_TOKEN = /^[A-Za-z0-9_-]+$/
const PREFIX = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/
const PLAIN_NAME_CHAR = /[A-Za-z0-9_-]/
const MAX_CACHED_EVENT_NAMES = 10_000
/** one or more literal tokens: no wildcard, no whitespace, no empty token */
const LITERAL_TOKENS = /^[^\s.*>]+(\.[^\s.*>]+)*$/
const SHOWN_SUBJECT_CHARS = 120

/** 400: a name cannot be put on a NATS subject (only reachable through address-based calls). */
export class InvalidSubjectNameError extends ConduitError {
  static {
    // an explicit name survives minification (logs show it, not the bundler's short class name)
    Object.defineProperty(InvalidSubjectNameError.prototype, 'name', {
      value: 'InvalidSubjectNameError',
      writable: true,
      configurable: true,
    })
  }

  constructor(kind: string, value: string) {
    super(
      400,
      'INVALID_SUBJECT_NAME',
      `The ${kind} ${JSON.stringify(value)} cannot be used on NATS: use letters, digits, '_' or '-'`,
      false,
    )
  }
}

/**
 * Turns any string into one subject token that is also a valid stream/consumer name: letters,
 * digits, '_' and '-' stay, '.' becomes '~' (so `email.v1.sendWelcomeMail` stays readable), and
 * anything else becomes `=` plus its UTF-8 bytes in hex. '~' and '=' only come from escaping,
 * so two different inputs never give the same token.
 */
export function escapeName(value: string): string {
  if (SUBJECT_TOKEN.test(value)) return value
  let escaped = ''
  for (const char of value) {
    if (PLAIN_NAME_CHAR.test(char)) escaped += char
    else if (char === '.') escaped += '~'
    else
      for (const byte of Buffer.from(char, 'utf8'))
        escaped += `=${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return escaped === '' ? '=' : escaped
}

export function assertPrefix(prefix: string): void {
  if (!PREFIX.test(prefix)) {
    throw new ConduitError(
      500,
      'INVALID_OPTION',
      `Invalid NATS prefix ${JSON.stringify(prefix)}: use dot-separated tokens of letters, digits, '_' or '-'`,
      false,
    )
  }
}

function assertToken(kind: string, value: string): string {
  if (!SUBJECT_TOKEN.test(value)) throw new InvalidSubjectNameError(kind, value)
  return value
}

/** The subject scheme under one prefix (default `conduit`). */
export class NatsSubjects {
  readonly prefix: string
  /** the JetStream stream holding durable events: `<prefix>_events` */
  readonly eventStream: string
  /** the JetStream stream holding dead letters: `<prefix>_dead_letters` */
  readonly deadLetterStream: string
  /** what the event stream captures: every event subject */
  readonly allEvents: string
  readonly allDeadLetters: string
  /** every reply inbox lives under it: `<prefix>.reply.` */
  private readonly replyNamespace: string
  private readonly eventSubjects = new Map<string, string>()

  constructor(prefix: string) {
    assertPrefix(prefix)
    this.prefix = prefix
    this.eventStream = `${escapeName(prefix)}_events`
    this.deadLetterStream = `${escapeName(prefix)}_dead_letters`
    this.allEvents = `${prefix}.evt.>`
    this.allDeadLetters = `${prefix}.dlq.>`
    this.replyNamespace = `${prefix}.reply.`
  }

  /** `<prefix>.cmd.<service>.v<version>.<command>` */
  command(address: CommandAddress): string {
    return `${this.prefix}.cmd.${assertToken('service', address.service)}.v${assertToken('version', address.version)}.${assertToken('command', address.command)}`
  }

  /** one queue group per service version: each invocation goes to one instance of that version */
  commandQueue(address: CommandAddress): string {
    return `${address.service}.v${address.version}`
  }

  /** `<prefix>.reply.<instance>`; each command appends its envelope id (see CommandChannel) */
  replyInbox(instanceId: string): string {
    return `${this.prefix}.reply.${escapeName(instanceId)}`
  }

  /**
   * Why a reply subject read from an incoming command must not be published to, or undefined
   * when it is a literal subject under `<prefix>.reply.` (`<inbox>.<id>` from a bridge, or a
   * plain nats.js client connected with `inboxPrefix: '<prefix>.reply'`). Anything else could
   * make a service publish into commands, events or `$JS.API`, or with a wildcard be refused.
   */
  refuseReplySubject(subject: string): string | undefined {
    // Hot path (every command): build the quoted subject only when refusing.
    const shown = () => JSON.stringify(subject.slice(0, SHOWN_SUBJECT_CHARS))
    if (!subject.startsWith(this.replyNamespace)) return `${shown()} is outside ${this.replyNamespace}>`
    if (!LITERAL_TOKENS.test(subject.slice(this.replyNamespace.length))) {
      return `${shown()} is not a literal NATS subject (wildcard, whitespace or empty token)`
    }
    return undefined
  }

  /** `<prefix>.ack.<instance>`; each JetStream publish appends a token */
  ackInbox(instanceId: string): string {
    return `${this.prefix}.ack.${escapeName(instanceId)}`
  }

  /** `<prefix>.evt.<event name>`; event names are already dot-separated subject tokens */
  event(eventName: string): string {
    let subject = this.eventSubjects.get(eventName)
    if (subject === undefined) {
      assertEventName(eventName) // once per name: emits are hot
      subject = `${this.prefix}.evt.${eventName}`
      if (this.eventSubjects.size >= MAX_CACHED_EVENT_NAMES) this.eventSubjects.clear()
      this.eventSubjects.set(eventName, subject)
    }
    return subject
  }

  /** a subscription pattern as a NATS filter: `*` stays, a final `#` becomes `>` */
  eventFilter(eventPattern: string): string {
    assertEventPattern(eventPattern)
    const natsPattern = eventPattern.endsWith('#') ? `${eventPattern.slice(0, -1)}>` : eventPattern
    return `${this.prefix}.evt.${natsPattern}`
  }

  /** at-most-once queue group (and durable consumer name) for a consumer group */
  groupName(group: string): string {
    return escapeName(group)
  }

  /** `<prefix>.dlq.<group>` */
  deadLetter(group: string): string {
    return `${this.prefix}.dlq.${escapeName(group)}`
  }
}

/** NATS subject matching: `*` is one token, a final `>` one or more. */
export function subjectMatches(filter: string, subject: string): boolean {
  if (filter === subject) return true
  const filterTokens = filter.split('.')
  const subjectTokens = subject.split('.')
  for (let index = 0; index < filterTokens.length; index++) {
    const token = filterTokens[index]
    if (token === '>') return subjectTokens.length > index
    if (index >= subjectTokens.length) return false
    if (token !== '*' && token !== subjectTokens[index]) return false
  }
  return filterTokens.length === subjectTokens.length
}
