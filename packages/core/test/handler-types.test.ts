import { describe, expect, expectTypeOf, it } from 'vitest'
import { z } from 'zod'
import {
  defineEvent,
  defineService,
  handleCommand,
  type UndeclaredEmit,
  type UndeclaredInvoke,
} from '../src/index.js'

// Checked by `tsc` (pnpm typecheck): each @ts-expect-error must meet an error, or the check fails.
const service = defineService({ name: 'types', version: '1' })
const done = defineEvent('types.done', z.object({ n: z.number() }))
const other = service.command('other', { input: z.object({}), output: z.object({}) })
const declared = service.command('declared', {
  input: z.object({}),
  output: z.object({}),
  emits: [done],
  invokes: [other],
})

const implementation = handleCommand(declared, async (_input, ctx) => {
  await ctx.emit('types.done', { n: 1 })
  await ctx.invoke(other, {})
  // @ts-expect-error the payload does not match the declared schema
  await ctx.emit('types.done', { n: 'one' })
  // @ts-expect-error UndeclaredEmit<"types.missing">: not declared in "emits"
  await ctx.emit('types.missing', { n: 1 })
  return {}
})

const bare = service.command('bare', { input: z.object({}), output: z.object({}) })
handleCommand(bare, async (_input, ctx) => {
  // @ts-expect-error UndeclaredInvoke: not declared in "invokes"
  await ctx.invoke(other, {})
  // The error names the missing declaration, not "never":
  expectTypeOf<Parameters<typeof ctx.invoke<typeof other>>[0]>().toEqualTypeOf<
    typeof other & UndeclaredInvoke<string>
  >()
  expectTypeOf<Parameters<typeof ctx.emit<'types.done'>>[0]>().toEqualTypeOf<
    'types.done' & UndeclaredEmit<'types.done'>
  >()
  // @ts-expect-error UndeclaredEmit: nothing is declared in "emits"
  await ctx.emit('types.done', { n: 1 })
  return {}
})

describe('handler context types', () => {
  it('compile only for declared invokes and emits (the checks are the @ts-expect-error lines)', () => {
    expect(implementation.definition).toBe(declared)
  })
})
