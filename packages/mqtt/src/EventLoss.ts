import { randomUUID } from 'node:crypto'
import type { TransportHost } from '@conduit/core/transport'
import { type Counter, metrics } from '@opentelemetry/api'
import type { PacketIdGap } from './durable/PacketIdGaps.js'
import type { MqttConnection } from './MqttConnection.js'
import { RECORDED_AT, readRetained } from './retained.js'
import type { TopicScheme } from './topics.js'

/** What the broker dropped for one durable session, as `readEventLoss` returns it. */
export interface EventLossRecord {
  /** consumer group of the durable subscription */
  group: string
  /** MQTT client id of the session the events were queued for */
  session: string
  /** how many events the broker dropped in this gap */
  lost: number
  /** packet identifier received before the gap (absent: the session was new) */
  afterPacketId?: number
  /** packet identifier that revealed the gap */
  atPacketId: number
  /** epoch ms when the member noticed it */
  detectedAt: number
  reason: string
}

export const LOSS_REASON =
  'the broker dropped events queued for this durable session: Mosquitto keeps at most max_queued_messages ' +
  '(default 1000) per session beyond the one in flight (also max_queued_bytes, memory_limit, message expiry). ' +
  'Set max_queued_messages 0 on the broker for lossless durable subscriptions (docs/bridges/mqtt.md)'

/**
 * Makes every gap loud: an error log and `conduit.messaging.failures` (through the host), the
 * `conduit.messaging.lost` counter by the number of events, and a retained record at
 * `<prefix>/durable/<group>/loss/<uuid>` that `readEventLoss` (or any MQTT client) reads back.
 */
export class EventLoss {
  private readonly lostEvents: Counter

  constructor(
    private readonly topics: TopicScheme,
    private readonly host: () => TransportHost,
    private readonly main: () => MqttConnection,
    private readonly openReader: () => Promise<MqttConnection>,
  ) {
    // Created with the transport, not at module load: a MeterProvider registered before is used.
    this.lostEvents = metrics.getMeter('@conduit/mqtt', '0.1.0').createCounter('conduit.messaging.lost', {
      description: 'Durable events a broker dropped before delivering them (detected gaps)',
    })
  }

  report(group: string, session: string, gap: PacketIdGap): void {
    const record: EventLossRecord = {
      group,
      session,
      lost: gap.missing,
      ...(gap.after === undefined ? {} : { afterPacketId: gap.after }),
      atPacketId: gap.at,
      detectedAt: Date.now(),
      reason: LOSS_REASON,
    }
    const host = this.host()
    const { reason: _reason, ...context } = record
    host.reportFailure(
      'deliver durable events (dropped by the broker)',
      new Error(`${gap.missing} event(s) lost: ${LOSS_REASON}`),
      context,
    )
    this.lostEvents.add(gap.missing, { 'conduit.bridge': 'mqtt', 'conduit.group': group })
    this.main()
      .publish(this.topics.loss(group, randomUUID()), JSON.stringify(record), {
        qos: 1,
        retain: true,
        properties: { userProperties: { [RECORDED_AT]: String(record.detectedAt) } },
      })
      .catch((error: unknown) =>
        host.reportFailure('store an event-loss record', error, { group, session, lost: gap.missing }),
      )
  }

  /** The group's loss records, oldest first (retained until someone clears them). */
  async read(group: string): Promise<EventLossRecord[]> {
    const raws = await readRetained(this.openReader, this.topics, this.topics.lossFilter(group))
    return raws.flatMap((raw) => {
      try {
        return [JSON.parse(Buffer.from(raw).toString('utf8')) as EventLossRecord]
      } catch {
        return []
      }
    })
  }
}
