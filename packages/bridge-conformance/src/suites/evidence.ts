import type { EventBridge } from '@conduit/core'
import { expect } from 'vitest'
import * as d from '../fixtures/definitions.js'
import type { NotApplicable } from '../harness.js'
import type { ConformanceWorld, LogEntry } from '../world.js'

// What the hostile-message and fault suites read back: log lines that give a reason, declared
// reasons for what a bridge cannot be put through, and "the service still answers".

export const POLL = { timeout: 10_000, interval: 20 }
const WARN = 40
const ERROR = 50

export function isNotApplicable(value: object): value is NotApplicable {
  return 'notApplicable' in value
}

/** The reason a log line gives: its `reason` field, else its error's message. */
export function reasonOf(entry: LogEntry): string {
  if (typeof entry.reason === 'string') return entry.reason
  const err = entry.err as { message?: unknown } | undefined
  return typeof err?.message === 'string' ? err.message : ''
}

/** Warnings and errors whose message matches `msg` and that give a reason. */
export function reasonedWarnings(world: ConformanceWorld, msg: RegExp): LogEntry[] {
  return world.logs.filter((entry) => entry.level >= WARN && msg.test(entry.msg) && reasonOf(entry) !== '')
}

export const malformedCommands = (world: ConformanceWorld) => reasonedWarnings(world, /malformed command/)
export const malformedEvents = (world: ConformanceWorld) => reasonedWarnings(world, /malformed event/)

/**
 * Handling a hostile message is routine: warnings, never an error log (a failed ack, reply,
 * dead-letter or handler: what the engine and transports report when something broke).
 */
export function expectNothingFailed(world: ConformanceWorld): void {
  const failures = world.logs.filter((entry) => entry.level >= ERROR)
  expect(failures.map((entry) => `${entry.msg}: ${reasonOf(entry)}`)).toEqual([])
}

/** Warnings and errors about the message with this correlation id. */
export function warningsAbout(world: ConformanceWorld, correlationId: string): LogEntry[] {
  return world.logs.filter((entry) => entry.level >= WARN && entry.correlationId === correlationId)
}

/**
 * A declared NotApplicable must be a true sentence the suite can print: the test asserts that
 * much and prints it, like the capability gaps, instead of skipping silently.
 */
export function expectDeclaredReason(world: ConformanceWorld, what: string, reason: string): void {
  expect(typeof reason).toBe('string')
  expect(reason.trim().length, `the reason ${what} does not apply must be given`).toBeGreaterThanOrEqual(10)
  expect(reason, `the reason ${what} does not apply must be a sentence`).toMatch(/\p{L}+\s+\p{L}+/u)
  console.info(`[conformance] ${world.harness.name} declares ${what} not applicable: ${reason}`)
}

/** The harness's harmless reply address, or undefined where replies never go to an address from the wire. */
export function validReplyAddress(world: ConformanceWorld): string | undefined {
  const addresses = world.namespace.replyAddresses
  return isNotApplicable(addresses) ? undefined : addresses.valid
}

/** Echo calls the handler ran, by text. */
export const echoed = (world: ConformanceWorld) =>
  world.probe.of('echo').map((call) => (call.input as { text: string }).text)

/** Calls echo until one is answered (bounded), then returns its text. */
export async function firstAnswer(client: EventBridge, text: string): Promise<void> {
  await expect
    .poll(
      () =>
        client.invoke(d.echo, { text }, { timeout: 2_000 }).then(
          (result) => result.text,
          () => undefined,
        ),
      { timeout: 15_000, interval: 20 },
    )
    .toBe(text)
}
