import type { TransportHost } from '@conduit/core/transport'
import type { IClientOptions } from 'mqtt'
import type { DeadLetters } from '../DeadLetters.js'
import type { EventLoss } from '../EventLoss.js'
import type { ConnectionSpec, MqttConnection } from '../MqttConnection.js'
import type { ResolvedMqttOptions } from '../options.js'
import type { TopicScheme } from '../topics.js'
import type { PacketIdGap } from './PacketIdGaps.js'

/** What durable members and adopters of one transport share. */
export interface DurableEnvironment {
  readonly settings: ResolvedMqttOptions
  readonly topics: TopicScheme
  readonly host: TransportHost
  readonly deadLetters: DeadLetters
  readonly eventLoss: EventLoss
  /**
   * Client ids this transport holds (its members and the sessions it is adopting): its
   * adopters skip their markers, so the transport never takes over its own sessions.
   */
  readonly claimed: Set<string>
  main(): MqttConnection
  /** connection settings common to every connection of the transport */
  connectionSpec(clientId: string): ConnectionSpec
}

/**
 * Published (retained) at `<prefix>/durable/<group>/orphan/<clientId>` when a durable member's
 * session has no connection any more: by the member when it stops, by the broker (the member's
 * will) when it crashes. The session still holds the group's shared subscription and whatever
 * the broker queued for it; another member adopts it.
 */
export interface OrphanMarker {
  clientId: string
  /** the subscription the session holds, to be removed by the adopter */
  filter: string
}

export function encodeMarker(marker: OrphanMarker): Buffer {
  return Buffer.from(JSON.stringify(marker))
}

export function decodeMarker(payload: Buffer): OrphanMarker | undefined {
  if (payload.length === 0) return undefined // a cleared marker
  try {
    const value: unknown = JSON.parse(payload.toString('utf8'))
    if (typeof value !== 'object' || value === null || !('clientId' in value) || !('filter' in value))
      return undefined
    const { clientId, filter } = value
    if (typeof clientId === 'string' && typeof filter === 'string') return { clientId, filter }
  } catch {
    // not ours: fall through
  }
  return undefined
}

/**
 * The will a persistent durable session carries: the broker publishes the marker if the
 * connection dies, after `orphanDelay` seconds (MQTT 5 Will Delay Interval), unless the client
 * reconnects first or another connection takes the session over.
 */
export function orphanWill(
  env: DurableEnvironment,
  group: string,
  marker: OrphanMarker,
): IClientOptions['will'] {
  return {
    topic: env.topics.orphan(group, marker.clientId),
    payload: encodeMarker(marker),
    qos: 1,
    retain: true,
    properties: { willDelayInterval: env.settings.orphanDelay },
  }
}

export async function clearMarker(env: DurableEnvironment, group: string, clientId: string): Promise<void> {
  await env.main().publish(env.topics.orphan(group, clientId), '', { qos: 1, retain: true })
}

/** What a durable session's connection watches for dropped events (nothing with detectLoss off). */
export function watchPacketIds(
  env: DurableEnvironment,
  group: string,
  clientId: string,
): { packetIds?: { onGap(gap: PacketIdGap): void } } {
  if (!env.settings.detectLoss) return {}
  return { packetIds: { onGap: (gap) => env.eventLoss.report(group, clientId, gap) } }
}
