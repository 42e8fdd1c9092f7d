import { BridgeUnavailableError, ConduitError, TimeoutError } from '@conduit/core'
import type { Transport, TransportHost } from '@conduit/core/transport'
import { AppServer } from './AppServer.js'
import { CommandRoutes } from './CommandRoutes.js'
import { daprCapabilities } from './capabilities.js'
import { deliverEvent, dropOversized } from './eventDelivery.js'
import { settleInvocation } from './invocation.js'
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
  const sidecar = new SidecarClient(resolved.daprBaseUrl, resolved.daprApiToken)
  const settle = new SettleWindow(resolved.subscribeSettleMs)
  const topics = new TopicSubscriptions(pubsubName, settle)
  const commands = new CommandRoutes()
  let host: TransportHost | undefined
  let appServer: AppServer | undefined
  let closing = new AbortController()
  let appId = resolved.appId

  async function publish(topic: string, body: Uint8Array | string, contentType: string, headers = {}) {
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

  function connected(): TransportHost {
    if (!host) throw new BridgeUnavailableError(`${DAPR_BRIDGE_NAME} is not connected`)
    return host
  }

  function openAppServer(transportHost: TransportHost): AppServer {
    const delivery = {
      topicPrefix,
      maxPayloadBytes,
      logger: transportHost.logger,
      reportFailure: transportHost.reportFailure,
      publish: (topic: string, dead: { body: Uint8Array | string; contentType: string }) =>
        publish(topic, dead.body, dead.contentType),
    }
    return new AppServer(
      {
        subscriptions: () => topics.announce(closing.signal),
        command: (key, body, respond) => commands.serve(key, body, respond),
        event: (topic, body) => deliverEvent(delivery, topic, topics.listenersOf(topic), body),
        oversizedEvent: (topic, size, limit) =>
          dropOversized(delivery, topic, topics.listenersOf(topic), size, limit),
      },
      transportHost,
      // room for headers around an envelope; deliveries come base64 in Dapr's wrapper (rawPayload)
      { command: maxPayloadBytes + 64 * 1024, event: Math.ceil(maxPayloadBytes / 3) * 4 + 64 * 1024 },
    )
  }

  return {
    name: DAPR_BRIDGE_NAME,
    carries: 'cloudevents',
    capabilities: daprCapabilities(maxPayloadBytes),
    // events: the pub/sub topic; commands: the app and the invoked method
    destinationName: (target) =>
      target.kind === 'event'
        ? eventTopic(topicPrefix, target.eventName)
        : `${appIdOf(target.address.service, target.address.version)}/${commandMethod(target.address)}`,
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
      appServer = openAppServer(transportHost)
      await appServer.listen(resolved.appHost, resolved.appPort)
      try {
        await sidecar.waitUntilReady(resolved.sidecarWaitMs)
      } catch (error) {
        await appServer.close()
        sidecar.close()
        throw error
      }
    },

    async disconnect() {
      closing.abort()
      await appServer?.close()
      sidecar.close()
    },

    isReady: () => appServer?.listening === true && sidecar.reachable,
    isHealthy: () => appServer?.listening === true && sidecar.reachable,

    async sendCommand(address, command) {
      const transportHost = connected()
      const { envelope, bytes } = command
      const targetAppId = appIdOf(address.service, address.version)
      const deadline = envelope.deadline ?? Date.now() + 30_000
      const call = {
        commandId: envelope.id,
        appId: targetAppId,
        command: commandKey(address),
        size: bytes.byteLength,
        maxPayloadBytes,
      }
      const request = {
        method: 'POST' as const,
        path: `/v1.0/invoke/${encodeURIComponent(targetAppId)}/method/${commandMethod(address)}`,
        body: bytes,
        headers: {
          'content-type': 'application/json',
          'conduit-deadline': String(deadline),
          ...traceHeaders(envelope),
        },
        timeoutMs: deadline - Date.now(),
      }
      try {
        // Resolves once the sidecar has the request; its HTTP answer, later, is the reply.
        await sidecar.handOver(request, (outcome) => settleInvocation(transportHost, call, outcome))
      } catch (error) {
        if (!(error instanceof SidecarTimeout)) throw error
        throw new TimeoutError(`the Dapr sidecar did not take ${call.command} before its deadline`)
      }
    },

    async listenCommands(address, receive) {
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
      const listener = commands.add(commandKey(address), receive)
      settle.touch()
      return listener
    },

    async publishEvent(event) {
      const { envelope } = event
      // The CloudEvent is this bridge's wire form of an event: encoded once, by the engine.
      const body = event.cloudEventBytes
      const topic = eventTopic(topicPrefix, envelope.eventName ?? '')
      await publish(topic, body, CLOUD_EVENT_CONTENT_TYPE, traceHeaders(envelope))
    },

    async listenEvents(spec, receive) {
      const owner = serviceOfGroup(spec.group)
      if (owner) claimAppId(owner.service, owner.version)
      return topics.add(eventTopic(topicPrefix, spec.eventPattern), spec, receive)
    },
  }
}
