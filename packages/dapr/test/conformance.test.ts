import { randomUUID } from 'node:crypto'
import { runBridgeConformance } from '@conduit/bridge-conformance'
import { DAPR_DEFAULT_MAX_BODY_BYTES, DaprBridge, deadLetterTopic, eventTopic } from '../src/index.js'
import { commandMethod } from '../src/routes.js'
import { DaprEmulator } from '../src/testing/index.js'

// Every test gets its own emulator (its own JetStream stream and sidecars) and its own app ids
// and topic prefix. Each bridge is a "process" with its own emulated sidecar. Under real Dapr the
// operator passes --app-id; here the suite decides which service a process runs only after
// starting it, so each sidecar takes the app id the bridge reports (that of the first service it
// serves) when it needs one, and the app port the bridge listens on (port 0: picked by the OS).
const SIDECARS_PER_TEST = 6
/** Dapr stamps traceid, traceparent, tracestate, topic and pubsubname on every published CloudEvent. */
const DAPR_STAMP_ROOM = 1024

runBridgeConformance({
  name: 'dapr (through the test emulator)',
  brokerFaults: {
    notApplicable:
      'the bridge talks to a sidecar, and here the sidecar is the test emulator, not a real Dapr runtime: ' +
      "killing the emulator's broker would measure the emulator's retry policy, not Dapr's or the bridge's",
  },
  async createNamespace() {
    const id = randomUUID().slice(0, 8)
    const topicPrefix = `cf${id}.`
    const appIdOf = (service: string, version: string) => `cf${id}-${service}-v${version}`
    const emulator = await DaprEmulator.start()
    // What the pub/sub broker behind the emulated Dapr takes (NATS: 1 MiB), less room for the
    // attributes Dapr adds on publish: Dapr's own 4 MiB body limit is not the binding one here.
    const maxPayloadBytes = Math.min(
      DAPR_DEFAULT_MAX_BODY_BYTES,
      emulator.brokerMaxMessageBytes - DAPR_STAMP_ROOM,
    )
    const injector = await emulator.addSidecar({ appId: `cf${id}-injector` })
    const daprApi = `http://127.0.0.1:${injector.daprHttpPort}/v1.0`
    // createBridge is synchronous and a sidecar's port is known only once it listens: start a
    // few sidecars up front; each waits for the bridge that will take it.
    const slots = await Promise.all(
      Array.from({ length: SIDECARS_PER_TEST }, async () => {
        const slot: { bridge?: DaprBridge } = {}
        const sidecar = await emulator.addSidecar({
          appId: () => slot.bridge?.appId,
          appPort: () => slot.bridge?.appPort,
        })
        return { slot, sidecar }
      }),
    )
    let taken = 0
    return {
      createBridge(options) {
        const free = slots[taken++]
        if (!free)
          throw new Error(
            `the harness starts ${SIDECARS_PER_TEST} sidecars per test; raise SIDECARS_PER_TEST`,
          )
        free.slot.bridge = new DaprBridge({
          ...options,
          daprHttpPort: free.sidecar.daprHttpPort,
          appPort: 0,
          topicPrefix,
          appIdOf,
          subscribeSettleMs: 300,
          maxPayloadBytes,
        })
        return free.slot.bridge
      },
      // replyTo is not carried: the reply to an invocation is its HTTP response (replyAddresses below).
      async injectRawCommand(address, bytes) {
        const appId = appIdOf(address.service, address.version)
        const response = await fetch(`${daprApi}/invoke/${appId}/method/${commandMethod(address)}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: bytes,
        })
        await response.arrayBuffer()
      },
      // The reply to an invocation is its HTTP response: its body is the reply's bytes on the wire.
      async captureReply(address, bytes, timeoutMs) {
        const appId = appIdOf(address.service, address.version)
        const response = await fetch(`${daprApi}/invoke/${appId}/method/${commandMethod(address)}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: bytes,
          signal: AbortSignal.timeout(timeoutMs),
        })
        return new Uint8Array(await response.arrayBuffer())
      },
      replyAddresses: {
        notApplicable:
          'Dapr service invocation is one synchronous HTTP request through the sidecars: the reply is its ' +
          'HTTP response, so no reply address is ever read from the wire',
      },
      // The bridge's connection is HTTP to its own sidecar: the emulated sidecar cuts every socket
      // to and from the app, mid-request included, and keeps listening, as after a network fault.
      async interruptConnection(bridge) {
        const owner = slots.find(({ slot }) => slot.bridge === bridge)
        if (!owner) throw new Error('interruptConnection: this bridge was not created by this namespace')
        owner.sidecar.dropConnections()
      },
      async injectRawEvent(eventName, bytes) {
        await emulator.injectIntoBroker('pubsub', eventTopic(topicPrefix, eventName), bytes)
      },
      // The dead-letter topic read back from the broker behind the pub/sub component, as stored
      // (a CloudEvent: Dapr wraps whatever is published).
      readRawDeadLetters: (group) => emulator.readTopic('pubsub', deadLetterTopic(topicPrefix, group)),
      // The bridge's sidecar stops getting the broker's confirmation: publish requests wait unanswered.
      async stallBroker(bridge) {
        const owner = slots.find(({ slot }) => slot.bridge === bridge)
        if (!owner) throw new Error('stallBroker: this bridge was not created by this namespace')
        return owner.sidecar.holdPublishes()
      },
      createBridgeWithPayloadLimit: {
        notApplicable:
          "the emulated pub/sub component stores messages on the shared NATS server, whose max_payload is 1 MiB, so a Dapr bridge here carries less than 1 MiB (Dapr's own body limit is 4 MiB)",
      },
      async cleanup() {
        if (process.env.DAPR_EMULATOR_LOG) console.info(emulator.logs.slice(0, 20).join('\n'))
        await emulator.close()
      },
    }
  },
})
