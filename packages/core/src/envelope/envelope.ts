/** Wire format v1. See docs/wire-format.md for the field-by-field description. */
export const SPEC_VERSION = '1'
export const JSON_CONTENT_TYPE = 'application/json'

export type EnvelopeType = 'command' | 'response' | 'error' | 'event'

/** Who sent a message: a service's command or subscription, or a bare bridge client. */
export interface Sender {
  service?: string
  version?: string
  /** the command or subscription that sent it */
  name?: string
  instanceId: string
}

/** Where a command goes; `instanceId` is filled in by the instance that handled it. */
export interface Receiver {
  service: string
  version: string
  command: string
  instanceId?: string
}

export interface Envelope<Payload = unknown> {
  id: string
  type: EnvelopeType
  specVersion: typeof SPEC_VERSION
  /** epoch milliseconds */
  time: number
  /** groups the messages of one conversation; chosen by the caller, may repeat */
  correlationId: string
  /** on responses and errors: the `id` of the command answered */
  inReplyTo?: string
  traceparent?: string
  tracestate?: string
  sender: Sender
  receiver?: Receiver
  eventName?: string
  principalId?: string
  tenantId?: string
  /** absolute epoch milliseconds after which a command must not run */
  deadline?: number
  contentType: string
  payload: Payload
  parameter?: Record<string, unknown>
  headers?: Record<string, string>
}

export function commandAddressKey(receiver: { service: string; version: string; command: string }): string {
  return `${receiver.service}.v${receiver.version}.${receiver.command}`
}
