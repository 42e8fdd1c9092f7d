import type { Logger } from '@conduit/core'
import type { RefusedReply, ReplySender } from '@conduit/core/transport'
import type { IPublishPacket } from 'mqtt'
import type { MqttConnection } from './MqttConnection.js'
import type { TopicScheme } from './topics.js'

/** Longest correlation data echoed back; Conduit callers send their envelope id (at most 128 bytes). */
export const MAX_CORRELATION_DATA_BYTES = 1_024

/**
 * How to answer one received command, from its MQTT 5 request/response properties: publish the
 * reply to its response topic, with its correlation data echoed, at the command's QoS.
 *
 * Both are read from the wire, so they are checked before use: a response topic that is not a
 * topic name (a wildcard makes the broker disconnect the publisher) or lies outside this
 * application's reply namespace, or correlation data too large for the packet overhead, is
 * refused, and the engine drops the command with a log instead of running it. A command without
 * a response topic (fire-and-forget from a plain MQTT client) runs; its reply goes nowhere.
 */
export function replyRoute(
  packet: IPublishPacket,
  topics: TopicScheme,
  connection: () => MqttConnection,
  logger: Logger,
): ReplySender | RefusedReply {
  const responseTopic = packet.properties?.responseTopic
  const correlationData = packet.properties?.correlationData
  if (responseTopic === undefined) {
    return (response) => {
      logger.debug(
        { correlationId: response.envelope.correlationId },
        'mqtt: command had no response topic; reply dropped',
      )
    }
  }
  const problem = topics.replyTopicProblem(responseTopic)
  if (problem !== undefined) return { refused: problem }
  if (correlationData !== undefined && correlationData.byteLength > MAX_CORRELATION_DATA_BYTES) {
    return {
      refused: `correlation data of ${correlationData.byteLength} bytes exceeds ${MAX_CORRELATION_DATA_BYTES}`,
    }
  }
  const qos: 0 | 1 = packet.qos === 0 ? 0 : 1
  const options = { qos, properties: correlationData === undefined ? {} : { correlationData } }
  return async (response) => {
    await connection().publish(responseTopic, response.bytes, options)
  }
}
