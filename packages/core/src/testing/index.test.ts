import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { defineEvent } from '../definitions/event.js'
import { defineService } from '../definitions/service.js'
import { ValidationError } from '../errors/errors.js'
import { handleCommand, handleSubscription } from '../service/implementation.js'
import { testCommand, testSubscription } from './index.js'

const greeted = defineEvent('greeter.greeted', z.object({ name: z.string() }))
const greeterV1 = defineService({ name: 'greeter', version: '1' })
const lookup = greeterV1.command('lookup', {
  input: z.object({ id: z.string() }),
  output: z.object({ name: z.string() }),
})
const greet = greeterV1.command('greet', {
  input: z.object({ id: z.string() }),
  output: z.object({ text: z.string() }),
  emits: [greeted],
  invokes: [lookup],
})
const onGreeted = greeterV1.subscription('onGreeted', { event: greeted })

const greetHandler = handleCommand(greet, async ({ id }, ctx) => {
  const { name } = await ctx.invoke(lookup, { id })
  await ctx.emit('greeter.greeted', { name })
  return { text: `hello ${name}${ctx.principalId ? ` from ${ctx.principalId}` : ''}` }
})

describe('@conduit/core/testing', () => {
  it('runs a command through validation with stubbed invokes, recording emits', async () => {
    const result = await testCommand(
      greetHandler,
      { id: '7' },
      { invoke: () => ({ name: 'Ada' }), principalId: 'bob' },
    )
    expect(result.output).toEqual({ text: 'hello Ada from bob' })
    expect(result.invoked).toEqual([{ command: 'greeter.lookup', input: { id: '7' } }])
    expect(result.emitted).toEqual([{ eventName: 'greeter.greeted', payload: { name: 'Ada' } }])
  })

  it('rejects bad input with the same 400 the runtime gives', async () => {
    await expect(testCommand(greetHandler, { id: 7 })).rejects.toBeInstanceOf(ValidationError)
  })

  it('runs a subscription handler with the attempt number', async () => {
    const seen: number[] = []
    const handler = handleSubscription(onGreeted, (_event, ctx) => void seen.push(ctx.attempt))
    await testSubscription(handler, { name: 'Ada' }, { attempt: 3 })
    expect(seen).toEqual([3])
  })
})
