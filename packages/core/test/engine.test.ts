import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import {
  BridgeUnavailableError,
  createService,
  defineEvent,
  defineService,
  EventBridge,
  handleCommand,
  NoHandlerError,
  ValidationError,
} from '../src/index.js'
import {
  type CommandReceiver,
  type DeliveryOutcome,
  decodeEnvelope,
  encodeEnvelope,
  type OutboundMessage,
  type ReplySender,
  supported,
  type Transport,
  type TransportHost,
  unsupported,
} from '../src/transport/index.js'

/** A transport that records what the engine hands it and lets the test play the broker. */
function recordingTransport(maxPayloadBytes = 1024 * 1024) {
  const sent: OutboundMessage[] = []
  const published: OutboundMessage[] = []
  const commandListeners: CommandReceiver[] = []
  let host: TransportHost | undefined
  const transport: Transport = {
    name: 'recording',
    capabilities: {
      requestReply: supported,
      durable: supported,
      everyInstance: supported,
      wildcards: supported,
      noHandlerDetection: supported,
      deadLetterInspection: supported,
      maxPayloadBytes,
    },
    async connect(given) {
      host = given
    },
    async disconnect() {},
    isReady: () => true,
    isHealthy: () => true,
    async sendCommand(_address, message) {
      sent.push(message)
    },
    async listenCommands(_address, receive) {
      commandListeners.push(receive)
      return { pause: async () => undefined, close: async () => undefined }
    },
    async publishEvent(message) {
      published.push(message)
    },
    async listenEvents() {
      return { pause: async () => undefined, close: async () => undefined }
    },
  }
  return { transport, sent, published, commandListeners, host: () => host! }
}

function capturedLogger() {
  const lines: { msg: string; [key: string]: unknown }[] = []
  const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) })
  return { logger, lines }
}

const echoService = defineService({ name: 'echo', version: '1' })
const echo = echoService.command('echo', {
  input: z.object({ text: z.string() }),
  output: z.object({ text: z.string(), by: z.string() }),
})
const said = defineEvent('echo.said', z.object({ text: z.string() }))

function echoImplementation(by: string) {
  return createService(echoService, {
    commands: [handleCommand(echo, async (input) => ({ text: input.text, by }))],
  })
}

function commandBytes(overrides: Record<string, unknown> = {}): Uint8Array {
  return encodeEnvelope({
    id: 'cmd-1',
    type: 'command',
    specVersion: '1',
    time: Date.now(),
    correlationId: 'corr-1',
    sender: { instanceId: 'elsewhere' },
    receiver: { service: 'echo', version: '1', command: 'echo' },
    deadline: Date.now() + 5_000,
    contentType: 'application/json',
    payload: { text: 'hi' },
    ...overrides,
  } as never)
}

async function started(maxPayloadBytes?: number) {
  const recording = recordingTransport(maxPayloadBytes)
  const { logger, lines } = capturedLogger()
  const bridge = new EventBridge(recording.transport, { logger, drainTimeout: 1_000 })
  await bridge.start()
  return { ...recording, bridge, lines }
}

describe('the engine', () => {
  it('opens one transport listener per address and takes turns among local instances', async () => {
    const { bridge, commandListeners } = await started()
    const first = await echoImplementation('first').getInstance(bridge)
    const second = await echoImplementation('second').getInstance(bridge)
    await first.start()
    await second.start()
    expect(commandListeners).toHaveLength(1)
    const replies: OutboundMessage[] = []
    const reply: ReplySender = (message) => {
      replies.push(message)
    }
    for (let i = 0; i < 4; i++) await commandListeners[0]!(commandBytes({ id: `c${i}` }), reply)
    const by = replies.map((message) => (decodeEnvelope(message.bytes).payload as { by: string }).by)
    expect(by).toEqual(['first', 'second', 'first', 'second'])
    await bridge.stop()
  })

  it('hands transports encoded bytes and matches the reply by the command id', async () => {
    const { bridge, sent, host } = await started()
    const call = bridge.invoke(echo, { text: 'x' })
    await Promise.resolve()
    const command = sent[0]!
    expect(decodeEnvelope(command.bytes)).toEqual(JSON.parse(JSON.stringify(command.envelope)))
    host().receiveReply(
      encodeEnvelope({
        id: 'r1',
        type: 'response',
        specVersion: '1',
        time: Date.now(),
        correlationId: command.envelope.correlationId,
        inReplyTo: command.envelope.id,
        sender: { instanceId: 'elsewhere' },
        contentType: 'application/json',
        payload: { text: 'x', by: 'them' },
      }),
    )
    await expect(call).resolves.toEqual({ text: 'x', by: 'them' })
    await bridge.stop()
  })

  it('fails one call on failCall and every waiting call at once when replies are lost', async () => {
    const { bridge, sent, host } = await started()
    const lonely = bridge.invoke(echo, { text: 'a' })
    const waiting = [bridge.invoke(echo, { text: 'b' }), bridge.invoke(echo, { text: 'c' })]
    await Promise.resolve()
    host().failCall(sent[0]!.envelope.id, new NoHandlerError('nobody'))
    await expect(lonely).rejects.toMatchObject({ status: 503, code: 'NO_HANDLER' })
    host().repliesLost('connection lost')
    for (const call of waiting) {
      await expect(call).rejects.toMatchObject({
        status: 503,
        retryable: true,
        message: expect.stringMatching(/outcome is unknown/),
      })
    }
    expect(bridge.pendingInvocations).toBe(0)
    await bridge.stop()
  })

  it('answers a reply too large for the bridge with a small error', async () => {
    const { bridge, commandListeners } = await started(2_000)
    const big = createService(echoService, {
      commands: [handleCommand(echo, async () => ({ text: 'x'.repeat(5_000), by: 'big' }))],
    })
    await (await big.getInstance(bridge)).start()
    const replies: OutboundMessage[] = []
    const outcome = await commandListeners[0]!(commandBytes(), (message) => {
      replies.push(message)
    })
    expect(outcome).toEqual({ action: 'ack' })
    const error = decodeEnvelope(replies[0]!.bytes)
    expect(error.type).toBe('error')
    expect(error.payload).toMatchObject({ status: 413 })
    await bridge.stop()
  })

  it('never rejects when a reply cannot be sent: the failure is logged and the message acked', async () => {
    const { bridge, commandListeners, lines } = await started()
    await (await echoImplementation('one').getInstance(bridge)).start()
    const outcome = await commandListeners[0]!(commandBytes(), () => Promise.reject(new Error('socket gone')))
    expect(outcome).toEqual({ action: 'ack' })
    expect(
      lines.some((line) => line.msg === 'could not send a reply' && line.action === 'send a reply'),
    ).toBe(true)
    await bridge.stop()
  })

  it('does not run a command whose reply address the transport refused', async () => {
    const { bridge, commandListeners, lines } = await started()
    let runs = 0
    const counted = createService(echoService, {
      commands: [handleCommand(echo, async (input) => ({ text: input.text, by: String(++runs) }))],
    })
    await (await counted.getInstance(bridge)).start()
    const outcome: DeliveryOutcome = await commandListeners[0]!(commandBytes(), {
      refused: 'wildcard in topic',
    })
    expect(outcome.action).toBe('dead-letter')
    expect(runs).toBe(0)
    expect(lines.some((line) => /wildcard in topic/.test(String(line.reason)))).toBe(true)
    await bridge.stop()
  })

  it('dead-letters a message too large to store whole as a stub naming its size', async () => {
    const { bridge, commandListeners } = await started(10_000)
    await (await echoImplementation('one').getInstance(bridge)).start()
    const garbage = new Uint8Array(9_000).fill(0x7b)
    const outcome = await commandListeners[0]!(garbage, () => undefined)
    if (outcome.action !== 'dead-letter') throw new Error(`expected a dead letter, got ${outcome.action}`)
    expect(outcome.record.stub).toBe(true)
    const stub = JSON.parse(Buffer.from(outcome.record.message as Uint8Array).toString('utf8'))
    expect(stub).toMatchObject({ originalBytes: 9_000, reason: expect.stringMatching(/not JSON/) })
    await bridge.stop()
  })

  it('validates emit by name like emit by definition once the event is declared', async () => {
    const { bridge, published } = await started()
    await expect(bridge.emit(said, { text: 1 })).rejects.toBeInstanceOf(ValidationError)
    bridge.declareEvents([said]) // what a service instance does for the events it emits
    await expect(bridge.emit('echo.said', { text: 1 })).rejects.toBeInstanceOf(ValidationError)
    await bridge.emit('echo.said', { text: 'ok' })
    expect(published).toHaveLength(1)
    await bridge.stop()
  })

  it('refuses a subscription the transport cannot serve, whoever registers it (not only services)', async () => {
    const recording = recordingTransport()
    const lacking: Transport = {
      ...recording.transport,
      capabilities: { ...recording.transport.capabilities, durable: unsupported('no persistence here') },
    }
    const bridge = new EventBridge(lacking, { logger: capturedLogger().logger })
    await bridge.start()
    const spec = {
      group: 'stream.v1.tail',
      eventPattern: 'echo.said',
      delivery: 'durable' as const,
      everyInstance: false,
      maxAttempts: 3,
      filter: {},
      subject: 'event stream /events',
    }
    await expect(bridge.registerSubscription(spec, async () => undefined)).rejects.toMatchObject({
      code: 'CAPABILITY_MISSING',
      message: expect.stringMatching(/no persistence here/),
    })
    await bridge.stop()
  })

  it('fails a call whose transport throws instead of rejecting, leaving no rejection unhandled', async () => {
    const recording = recordingTransport()
    const throwing: Transport = {
      ...recording.transport,
      sendCommand: () => {
        throw new BridgeUnavailableError('socket closed')
      },
    }
    const bridge = new EventBridge(throwing, { logger: capturedLogger().logger })
    await bridge.start()
    await expect(bridge.invoke(echo, { text: 'x' })).rejects.toThrow('socket closed')
    expect(bridge.pendingInvocations).toBe(0)
    await bridge.stop()
  })

  it('fails calls still waiting when the bridge stops', async () => {
    const { bridge } = await started()
    const call = bridge.invoke(echo, { text: 'x' })
    await bridge.stop()
    await expect(call).rejects.toBeInstanceOf(BridgeUnavailableError)
  })
})
