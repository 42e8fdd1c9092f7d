import {
  createService,
  defineService,
  type Envelope,
  handleCommand,
  JSON_CONTENT_TYPE,
  NoHandlerError,
  SPEC_VERSION,
} from '@conduit/core'
import {
  type BridgeCapabilities,
  type OutboundMessage,
  supported,
  type Transport,
  type TransportHost,
  unsupported,
} from '@conduit/core/transport'
import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { LambdaBridge } from './LambdaBridge.js'

const quotaAddress = { service: 'quota', version: '1', command: 'check' }

const capabilities = (maxPayloadBytes: number): BridgeCapabilities =>
  Object.freeze({
    requestReply: supported,
    durable: supported,
    everyInstance: supported,
    wildcards: supported,
    noHandlerDetection: unsupported('a test broker cannot tell'),
    deadLetterInspection: supported,
    maxPayloadBytes,
  })

/** A broker-less outgoing transport: it records what it was handed and lets a test answer. */
function fakeOutgoing(answer: (host: TransportHost, command: OutboundMessage) => void) {
  const sent: OutboundMessage[] = []
  let limits = capabilities(64 * 1024)
  let connectedHost: TransportHost | undefined
  const transport: Transport = {
    name: 'fake',
    get capabilities() {
      return limits
    },
    async connect(host) {
      connectedHost = host
      // Like NATS: the server's limit is known once connected.
      limits = capabilities(1024 * 1024)
    },
    async disconnect() {},
    isReady: () => connectedHost !== undefined,
    isHealthy: () => connectedHost !== undefined,
    async sendCommand(_address, command) {
      sent.push(command)
      const host = connectedHost!
      queueMicrotask(() => answer(host, command))
    },
    async listenCommands() {
      throw new Error('a function serves its commands from HTTP events')
    },
    async publishEvent(event) {
      sent.push(event)
    },
    async listenEvents() {
      throw new Error('a function consumes Lambda event sources')
    },
  }
  return { transport, sent, host: () => connectedHost }
}

function responseTo(command: OutboundMessage, payload: unknown): Envelope {
  return {
    id: `${command.envelope.id}-response`,
    type: 'response',
    specVersion: SPEC_VERSION,
    time: Date.now(),
    correlationId: command.envelope.correlationId,
    inReplyTo: command.envelope.id,
    sender: { instanceId: 'quota-instance' },
    contentType: JSON_CONTENT_TYPE,
    payload,
  }
}

describe('the Lambda transport wraps the outgoing transport under the one engine', () => {
  const bridges: LambdaBridge[] = []
  const started = async (outgoing: Transport) => {
    const bridge = new LambdaBridge(outgoing)
    bridges.push(bridge)
    await bridge.start()
    return bridge
  }
  afterEach(async () => {
    await Promise.all(bridges.splice(0).map((bridge) => bridge.stop()))
  })

  it("connects the outgoing transport with the engine's host, so its replies answer the engine's calls", async () => {
    const fake = fakeOutgoing((host, command) => host.receiveReply(responseTo(command, { allowed: true })))
    const bridge = await started(fake.transport)
    expect(fake.host()?.instanceId).toBe(bridge.instanceId)
    await expect(bridge.invokeAddress(quotaAddress, { email: 'a@example.org' })).resolves.toEqual({
      allowed: true,
    })
    // The engine encoded the command once; the wire correlation is the envelope id.
    const [command] = fake.sent
    expect(JSON.parse(Buffer.from(command!.bytes).toString('utf8'))).toMatchObject({
      id: command!.envelope.id,
    })
    expect(bridge.pendingInvocations).toBe(0)
  })

  it('fails a call at once when the outgoing transport reports it lost, or lost its replies', async () => {
    const noHandler = await started(
      fakeOutgoing((host, command) =>
        host.failCall(command.envelope.id, new NoHandlerError('nobody serves it')),
      ).transport,
    )
    await expect(noHandler.invokeAddress(quotaAddress, {}, { timeout: 5_000 })).rejects.toMatchObject({
      code: 'NO_HANDLER',
    })

    const cut = await started(fakeOutgoing((host) => host.repliesLost('connection closed')).transport)
    const startedAt = Date.now()
    await expect(cut.invokeAddress(quotaAddress, {}, { timeout: 5_000 })).rejects.toMatchObject({
      status: 503,
      retryable: true,
      message: expect.stringContaining('outcome is unknown'),
    })
    expect(Date.now() - startedAt).toBeLessThan(1_000)
  })

  it("takes the outgoing transport's payload limit and no-handler detection, as they are after connect", async () => {
    const fake = fakeOutgoing(() => undefined)
    const bridge = new LambdaBridge(fake.transport)
    bridges.push(bridge)
    expect(bridge.capabilities.maxPayloadBytes).toBe(64 * 1024)
    await bridge.start()
    expect(bridge.capabilities).toMatchObject({
      maxPayloadBytes: 1024 * 1024,
      noHandlerDetection: { supported: false, reason: 'a test broker cannot tell' },
      everyInstance: { supported: false },
      requestReply: { supported: true },
    })
  })

  it('serves its own commands in process with one listener per address, the engine taking turns', async () => {
    const fake = fakeOutgoing(() => undefined)
    const bridge = await started(fake.transport)
    const echoV1 = defineService({ name: 'echo', version: '1' })
    const whoAmI = echoV1.command('whoAmI', { input: z.object({}), output: z.string() })
    const served: string[] = []
    for (const name of ['first', 'second']) {
      const service = createService(echoV1, {
        commands: [
          handleCommand(whoAmI, async () => {
            served.push(name)
            return name
          }),
        ],
      })
      await (await service.getInstance(bridge)).start()
    }
    await bridge.invoke(whoAmI, {})
    await bridge.invoke(whoAmI, {})
    expect(served.sort()).toEqual(['first', 'second'])
    expect(fake.sent).toEqual([])
  })
})
