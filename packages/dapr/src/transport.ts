import {
  assertCapabilities,
  BridgeUnavailableError,
  type CapabilityName,
  type CommandAddress,
  ConduitError,
  type EventListenerSpec,
  encodeEnvelope,
  isWildcardPattern,
  NoHandlerError,
  PayloadTooLargeError,
  type Transport,
  type TransportHost,
  toCloudEvent,
} from '@conduit/core'
import { AppServer } from './AppServer.js'
import { CommandRouter } from './CommandRouter.js'
import { daprCapabilities } from './capabilities.js'
import { deliverEvent } from './eventDelivery.js'
import { DAPR_BRIDGE_NAME, type DaprTransportOptions, resolveDaprOptions } from './options.js'
import { commandKey, commandMethod, eventTopic } from './routes.js'
import { describeDaprError, SidecarClient, SidecarTimeout } from './SidecarClient.js'
import { SettleWindow, TopicSubscriptions } from './TopicSubscriptions.js'

export interface DaprTransport extends Transport {
  /** the app id this process serves as: the option, `APP_ID`, or the app id of the first service registered */
  readonly appId: string | undefined
  /** the port the app server listens on once connected (useful with `appPort: 0`) */
  readonly appPort: number | undefined
}

const CLOUD_EVENT_CONTENT_TYPE = 'application/cloudevents+json'

function traceHeaders(message: { traceparent?: string; tracestate?: string }): Record<string, string> {
  const headers: Record<string, string> = {}
  if (message.traceparent) headers.traceparent = message.traceparent
  if (message.tracestate) headers.tracestate = message.tracestate
  return headers
}

/** `<service>.v<version>.<subscription>` → the service and version it belongs to. */
function serviceOfGroup(group: string): { service: string; version: string } | undefined {
  const [service, version] = group.split('.')
  return service && version?.startsWith('v') ? { service, version: version.slice(1) } : undefined
}

/**
 * Conduit over a Dapr sidecar (HTTP): commands through service invocation to the target's app
 * id, answered in the HTTP response; events through Dapr pub/sub as CloudEvents 1.0; this
 * process's routes on an app port the sidecar calls.
 */
export function createDaprTransport(options: DaprTransportOptions = {}): DaprTransport {
  const resolved = resolveDaprOptions(options)
  const { appIdOf, maxPayloadBytes, topicPrefix, pubsubName } = resolved
  const capabilities = daprCapabilities(maxPayloadBytes)
  const sidecar = new SidecarClient(resolved.daprBaseUrl, resolved.daprApiToken)
  const settle = new SettleWindow(resolved.subscribeSettleMs)
  const topics = new TopicSubscriptions(pubsubName, settle)
  const commands = new CommandRouter((response) =>
    encodeEnvelope(response, maxPayloadBytes, DAPR_BRIDGE_NAME),
  )
  let host: TransportHost | undefined
  let appServer: AppServer | undefined
  let closing = new AbortController()
  let appId = resolved.appId

  async function publish(
    topic: string,
    body: string,
    contentType: string,
    headers: Record<string, string> = {},
  ) {
    const response = await sidecar.request({
      method: 'POST',
      path: `/v1.0/publish/${encodeURIComponent(pubsubName)}/${encodeURIComponent(topic)}`,
      body,
      headers: { 'content-type': contentType, ...headers },
    })
    if (response.status >= 200 && response.status < 300) return
    const detail = describeDaprError(response)
    if (response.status === 403)
      throw new ConduitError(403, 'DAPR_FORBIDDEN', `Dapr refused to publish to ${topic}: ${detail}`, false)
    throw new BridgeUnavailableError(`Dapr did not accept the event for topic ${topic} (${detail})`)
  }

  /** The first service this process serves decides its app id unless one was configured. */
  function claimAppId(service: string, version: string): string {
    appId ??= appIdOf(service, version)
    return appId
  }

  return {
    name: DAPR_BRIDGE_NAME,
    capabilities,
    get appId() {
      return appId
    },
    get appPort() {
      return appServer?.port
    },

    async connect(transportHost) {
      host = transportHost
      closing = new AbortController()
      settle.touch()
      appServer = new AppServer(
        {
          subscriptions: () => topics.announce(closing.signal),
          command: (key, body) => commands.handle(key, body),
          event: (topic, body) =>
            deliverEvent(
              {
                topicPrefix,
                logger: transportHost.logger,
                closing: closing.signal,
                publishDeadLetter: (deadTopic, payload, contentType) =>
                  publish(deadTopic, payload, contentType),
              },
              topic,
              topics.liveGroups(topic),
              body,
            ),
        },
        transportHost.logger,
        maxPayloadBytes + 64 * 1024,
      )
      await appServer.listen(resolved.appHost, resolved.appPort)
      try {
        await sidecar.waitUntilReady(resolved.sidecarWaitMs)
      } catch (error) {
        await appServer.close(0)
        sidecar.close()
        throw error
      }
    },

    async disconnect() {
      closing.abort()
      await appServer?.close(5_000)
      sidecar.close()
    },

    isReady: () => appServer?.listening === true && sidecar.reachable,
    isHealthy: () => appServer?.listening === true && sidecar.reachable,

    async sendCommand(address, command) {
      const targetAppId = appIdOf(address.service, address.version)
      const body = encodeEnvelope(command, maxPayloadBytes, DAPR_BRIDGE_NAME)
      const deadline = command.deadline ?? Date.now() + 30_000
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'conduit-deadline': String(deadline),
        ...traceHeaders(command),
      }
      let response: Awaited<ReturnType<SidecarClient['request']>>
      try {
        response = await sidecar.request({
          method: 'POST',
          path: `/v1.0/invoke/${encodeURIComponent(targetAppId)}/method/${commandMethod(address)}`,
          body,
          headers,
          timeoutMs: deadline - Date.now(),
        })
      } catch (error) {
        if (error instanceof SidecarTimeout) return // the engine answers the caller with its TimeoutError
        throw error
      }
      if (response.status === 200) {
        host?.receiveReply(response.body)
        return
      }
      const detail = describeDaprError(response)
      if (response.status === 404) {
        throw new NoHandlerError(
          `Dapr app ${targetAppId} has no handler for ${commandKey(address)} (${detail})`,
        )
      }
      if (response.status === 413)
        throw new PayloadTooLargeError(body.byteLength, maxPayloadBytes, DAPR_BRIDGE_NAME)
      if (response.status === 403) {
        throw new ConduitError(
          403,
          'DAPR_FORBIDDEN',
          `Dapr refused the invocation of ${targetAppId}: ${detail}`,
          false,
        )
      }
      // ERR_DIRECT_INVOKE covers an unknown app id, a stopped one and one that failed mid-call
      // alike: nothing here tells "no handler" from "maybe ran", so the caller waits for its deadline.
      host?.logger.warn(
        {
          appId: targetAppId,
          command: commandKey(address),
          correlationId: command.correlationId,
          dapr: detail,
        },
        'Dapr could not complete the invocation; the caller waits for its deadline',
      )
    },

    async listenCommands(address: CommandAddress, receive) {
      const served = claimAppId(address.service, address.version)
      const target = appIdOf(address.service, address.version)
      if (target !== served) {
        throw new ConduitError(
          500,
          'DAPR_APP_ID_MISMATCH',
          `${address.service} v${address.version} is invoked as Dapr app "${target}", but this process serves app "${served}": ` +
            'Dapr would never route its commands here. Run it in its own Dapr app, or map both to one app id with `appIdOf`.',
          false,
        )
      }
      const remove = commands.add(commandKey(address), receive)
      settle.touch()
      return { close: async () => remove() }
    },

    async publishEvent(event) {
      const body = JSON.stringify(toCloudEvent(event))
      const size = Buffer.byteLength(body)
      if (size > maxPayloadBytes) throw new PayloadTooLargeError(size, maxPayloadBytes, DAPR_BRIDGE_NAME)
      await publish(
        eventTopic(topicPrefix, event.eventName!),
        body,
        CLOUD_EVENT_CONTENT_TYPE,
        traceHeaders(event),
      )
    },

    async listenEvents(spec: EventListenerSpec, receive) {
      const needs: CapabilityName[] = []
      if (spec.everyInstance) needs.push('everyInstance')
      if (isWildcardPattern(spec.eventPattern)) needs.push('wildcards')
      assertCapabilities(DAPR_BRIDGE_NAME, capabilities, `subscription ${spec.group}`, needs)
      const owner = serviceOfGroup(spec.group)
      if (owner) claimAppId(owner.service, owner.version)
      const remove = topics.add(eventTopic(topicPrefix, spec.eventPattern), spec, receive)
      return { close: async () => remove() }
    },
  }
}
