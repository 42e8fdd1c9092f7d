import type { IConnackPacket, MqttClient } from 'mqtt'

/**
 * Resolves at the client's first CONNACK; rejects on a connection error, a timeout, or a
 * broker that lacks the MQTT 5 features the bridge routes with.
 */
export function firstConnack(client: MqttClient, timeoutMs: number): Promise<IConnackPacket> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`no CONNACK within ${timeoutMs} ms`)), timeoutMs)
    const fail = (error: Error) => {
      cleanup()
      reject(error)
    }
    const onConnect = (connack: IConnackPacket) => {
      cleanup()
      const properties = connack.properties ?? {}
      if (
        properties.sharedSubscriptionAvailable === false ||
        properties.subscriptionIdentifiersAvailable === false
      ) {
        reject(
          new Error(
            'the broker lacks shared subscriptions or subscription identifiers (MQTT 5 features the bridge needs)',
          ),
        )
      } else {
        resolve(connack)
      }
    }
    const cleanup = () => {
      clearTimeout(timer)
      client.off('connect', onConnect)
      client.off('error', fail)
    }
    client.on('connect', onConnect)
    client.on('error', fail)
  })
}
