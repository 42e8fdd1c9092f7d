import { afterEach, describe, expect, it, vi } from 'vitest'
import { z } from 'zod'
import {
  createService,
  defineService,
  HandledError,
  handleCommand,
  MemoryBridge,
  MemoryBroker,
} from '../index.js'

// The in-process fast lane must be invisible: every outcome a caller can see is the one the
// transport path gives. Each case runs twice, caller and handler on one MemoryBridge (the fast
// lane) and on two bridges sharing a broker (the transport path), and the outcomes must match.

const shop = defineService({ name: 'shop', version: '1' })
const item = z.object({ sku: z.string().min(1), quantity: z.number().int().positive() })
const priced = z.object({ sku: z.string(), total: z.number() })
const price = shop.command('price', { input: item, output: priced })
const refuse = shop.command('refuse', { input: item, output: priced })
const crash = shop.command('crash', { input: item, output: priced })
const badOutput = shop.command('badOutput', { input: item, output: priced })
const hang = shop.command('hang', { input: item, output: priced })
const syncPrice = shop.command('syncPrice', { input: item, output: priced })
const thenablePrice = shop.command('thenablePrice', { input: item, output: priced })
const gated = shop.command('gated', { input: item, output: priced })
const gate = { open: () => {}, opened: Promise.resolve() }
const guarded = shop.command('guarded', {
  input: item,
  output: priced,
  hooks: {
    guards: [
      async (input) => {
        if (input.quantity > 5) throw new HandledError(403, 'too many for this guard', { max: 5 })
      },
    ],
    transformOutput: (output) => ({ ...output, total: output.total * 2 }),
  },
})

const implementation = createService(shop, {
  commands: [
    handleCommand(price, async (input) => ({ sku: input.sku, total: input.quantity * 3 })),
    handleCommand(refuse, async () => {
      throw new HandledError(409, 'out of stock', { restockInDays: 3 })
    }),
    handleCommand(crash, async () => {
      throw new Error('database password is hunter2')
    }),
    handleCommand(badOutput, async () => ({ sku: 42 }) as never),
    handleCommand(hang, async (_input, ctx) => {
      await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve))
      return { sku: 'late', total: 0 }
    }),
    handleCommand(syncPrice, ((input: z.output<typeof item>) => ({ sku: input.sku, total: 1 })) as never),
    handleCommand(thenablePrice, ((input: z.output<typeof item>) => ({
      // biome-ignore lint/suspicious/noThenProperty: a non-native thenable, as some libraries return
      then: (resolve: (value: unknown) => void) => resolve({ sku: input.sku, total: 2 }),
    })) as never),
    handleCommand(gated, async (input) => {
      await gate.opened
      return { sku: input.sku, total: 5 }
    }),
    handleCommand(guarded, async (input) => ({ sku: input.sku, total: input.quantity })),
  ],
})

/** Lets every pending callback and timer-free step run, `count` event-loop turns. */
async function nextTurns(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve))
}

type Outcome = { value: unknown } | { error: Record<string, unknown> }

async function outcomeOf(call: Promise<unknown>): Promise<Outcome> {
  try {
    return { value: await call }
  } catch (error) {
    const { name, status, code, message, data, retryable, correlationId } = error as HandledError
    // the correlation id differs between runs; whether the error names it does not
    const text = correlationId ? message.replaceAll(correlationId, '<correlation id>') : message
    return {
      error: { name, status, code, message: text, data, retryable, hasCorrelationId: !!correlationId },
    }
  }
}

const calls: [string, (bridge: MemoryBridge) => Promise<unknown>][] = [
  ['a value', (bridge) => bridge.invoke(price, { sku: 'a', quantity: 2 })],
  ['a handled error with its data', (bridge) => bridge.invoke(refuse, { sku: 'a', quantity: 1 })],
  ['an unexpected error, made generic', (bridge) => bridge.invoke(crash, { sku: 'a', quantity: 1 })],
  ['invalid input', (bridge) => bridge.invoke(price, { sku: '', quantity: 0 })],
  ['invalid output', (bridge) => bridge.invoke(badOutput, { sku: 'a', quantity: 1 })],
  ['a timeout', (bridge) => bridge.invoke(hang, { sku: 'a', quantity: 1 }, { timeout: 30 })],
  [
    'a deadline passed before pickup',
    (bridge) => bridge.invoke(price, { sku: 'a', quantity: 1 }, { deadline: Date.now() - 1 }),
  ],
  ['a synchronous handler', (bridge) => bridge.invoke(syncPrice, { sku: 's', quantity: 1 })],
  ['a handler returning a thenable', (bridge) => bridge.invoke(thenablePrice, { sku: 't', quantity: 1 })],
  ['hooks: a guard passing, transformOutput', (bridge) => bridge.invoke(guarded, { sku: 'g', quantity: 2 })],
  ['hooks: a guard refusing', (bridge) => bridge.invoke(guarded, { sku: 'g', quantity: 9 })],
]

describe('the in-process fast lane', () => {
  const cleanups: (() => Promise<void>)[] = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  async function setUp(lane: 'fast' | 'transport') {
    const broker = new MemoryBroker()
    const serving = new MemoryBridge({ broker })
    const calling = lane === 'fast' ? serving : new MemoryBridge({ broker })
    for (const bridge of new Set([serving, calling])) {
      await bridge.start()
      cleanups.push(() => bridge.stop())
    }
    const instance = await implementation.getInstance(serving)
    await instance.start()
    cleanups.push(() => instance.stop())
    return { broker, calling, instance }
  }

  it.each(calls)('gives the caller what the transport path gives: %s', async (name, call) => {
    const fast = await setUp('fast')
    const overBroker = vi.spyOn(fast.broker, 'sendCommand')
    const fastOutcome = await outcomeOf(call(fast.calling))
    expect(overBroker).not.toHaveBeenCalled() // the lane was taken
    const transport = await setUp('transport')
    const sent = vi.spyOn(transport.broker, 'sendCommand')
    const transportOutcome = await outcomeOf(call(transport.calling))
    expect(sent).toHaveBeenCalledTimes(1)
    if (name === 'a timeout') {
      // Which timeout wording a caller gets depends on timing on either path: "did not answer
      // within" normally, "deadline passed before pickup" after a pause of 30 ms before pickup.
      for (const outcome of [fastOutcome, transportOutcome])
        if ('error' in outcome) outcome.error.message = '<timeout>'
    }
    expect(fastOutcome).toEqual(transportOutcome)
    expect(fast.calling.pendingInvocations).toBe(0)
  })

  it('answers with a 500, not a timeout, when an executor throws instead of rejecting', async () => {
    const bridge = new MemoryBridge()
    await bridge.start()
    cleanups.push(() => bridge.stop())
    const address = { service: 'raw', version: '1', command: 'throws' }
    const registration = await bridge.registerCommand(address, { instanceId: bridge.instanceId }, () => {
      throw new Error('thrown, not rejected')
    })
    cleanups.push(() => registration.close())
    const outcome = await outcomeOf(bridge.invokeAddress(address, {}, { timeout: 5_000 }))
    expect(outcome).toMatchObject({ error: { status: 500, code: 'INTERNAL' } })
    expect(bridge.pendingInvocations).toBe(0)
  })

  it('keeps an unexpected error message off the caller', async () => {
    const { calling } = await setUp('fast')
    const outcome = await outcomeOf(calling.invoke(crash, { sku: 'a', quantity: 1 }))
    expect(JSON.stringify(outcome)).not.toContain('hunter2')
    expect(outcome).toMatchObject({ error: { status: 500, hasCorrelationId: true } })
  })

  it('counts a call in flight: stop() of the service waits for it, and the caller gets its answer', async () => {
    const { calling, instance } = await setUp('fast')
    const order: string[] = []
    gate.opened = new Promise((resolve) => {
      gate.open = () => resolve(undefined)
    })
    const call = calling.invoke(gated, { sku: 'd', quantity: 1 }).then((answer) => {
      order.push('answered')
      return answer
    })
    await nextTurns(2) // the handler has started and waits at the gate
    const stopping = instance.stop().then(() => order.push('stopped'))
    await nextTurns(5) // a stop that did not wait would be done by now
    gate.open()
    await expect(call).resolves.toEqual({ sku: 'd', total: 5 })
    await stopping
    expect(order).toEqual(['answered', 'stopped'])
  })

  it('is not taken when another bridge also serves the command: calls take turns between them', async () => {
    const broker = new MemoryBroker()
    const served: string[] = []
    const bridges: MemoryBridge[] = []
    for (const name of ['first', 'second']) {
      const bridge = new MemoryBridge({ broker })
      await bridge.start()
      cleanups.push(() => bridge.stop())
      bridges.push(bridge)
      const tagged = createService(shop, {
        commands: implementation.commands.map((command) =>
          command.definition === price
            ? handleCommand(price, async (input) => {
                served.push(name)
                return { sku: input.sku, total: 0 }
              })
            : command,
        ),
      })
      const instance = await tagged.getInstance(bridge)
      await instance.start()
      cleanups.push(() => instance.stop())
    }
    // the caller serves the command too: the lane would keep every call at home
    for (let i = 0; i < 4; i++) await bridges[0]!.invoke(price, { sku: 'x', quantity: 1 })
    expect(served.sort()).toEqual(['first', 'first', 'second', 'second'])
  })
})
